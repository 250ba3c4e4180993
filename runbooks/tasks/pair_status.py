"""Status of a galaxy database and its separate tool shed install database, each against its own branch.

With ``install_database_connection`` set, Galaxy keeps branch gxy in the galaxy database and
branch tsi in the install database, one ``alembic_version`` each. A database is judged on the
branch it holds: no "tsi missing" in a galaxy database that never held it. A row of the other
branch, or the install model's tables in the galaxy database, means a command ran against the
wrong database (this tool's issue 25: an upgrade ran tsi in the galaxy database).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from runbooks.code.environment import GalaxyEnv
from runbooks.code.install_model import install_tables
from runbooks.code.revisions import RevisionGraph
from runbooks.database.connections import inspect_database
from runbooks.database.urls import DatabaseUrl
from runbooks.tasks.status import Status, get_status

HOLDS = {"gxy": "galaxy database", "tsi": "install database"}


@dataclass(frozen=True)
class Misplaced:
    """A version row of one branch found in the database of the other."""

    revision: str
    branch: str
    database: DatabaseUrl  # where it is
    belongs: DatabaseUrl  # where it belongs

    def describe(self) -> str:
        holder = HOLDS["gxy" if self.branch == "tsi" else "tsi"]
        return f"{self.branch} row {self.revision} in the {holder} {self.database}"

    def to_json(self) -> dict:
        return {"revision": self.revision, "branch": self.branch, "database": self.database.masked()}


@dataclass(frozen=True)
class PairFacts:
    galaxy: Status  # the galaxy database, judged on gxy alone
    install: Status  # the install database, judged on tsi alone
    misplaced: tuple[Misplaced, ...] = ()
    stray_tables: tuple[str, ...] = ()  # install-model tables in the galaxy database

    @property
    def is_healthy(self) -> bool:
        return self.install.state == "up-to-date" and not self.misplaced

    def databases(self) -> list[tuple[str, Status]]:
        return [("gxy", self.galaxy), ("tsi", self.install)]

    def to_json(self) -> dict:
        return {
            "galaxy_database_state": self.galaxy.state,
            "install_database": {
                "database": self.install.database.masked(),
                "dialect": self.install.database.dialect,
                "branch": "tsi",
                "state": self.install.state,
                "alembic_version_rows": list(self.install.rows),
            },
            "misplaced_rows": [row.to_json() for row in self.misplaced],
            "install_tables_in_galaxy_database": list(self.stray_tables),
        }

    def next_step(self, state: str, cli) -> str | None:
        """The pair's own advice, when it is not the galaxy database's."""
        if self.misplaced:
            return (
                f"A version row in the wrong database ({'; '.join(row.describe() for row in self.misplaced)}): "
                f"{cli('troubleshoot')} says how to put it right."
            )
        if self.galaxy.state == "up-to-date" and self.install.state != "up-to-date":
            return f"The install database {self.install.database} is {self.install.state}: see {cli('troubleshoot')}."
        return None


def pair_status(db: DatabaseUrl, install_db: DatabaseUrl, graph: RevisionGraph, env: GalaxyEnv) -> Status:
    """The status of the pair, shaped as one database's (both branches, the rows of both)."""
    galaxy_snapshot = inspect_database(db)
    galaxy = get_status(db, graph, env, galaxy_snapshot, only=("gxy",))
    install = get_status(install_db, graph, env, only=("tsi",))
    misplaced = _misplaced(graph, galaxy, "tsi", install_db) + _misplaced(graph, install, "gxy", db)
    wrong = {row.revision for row in misplaced}
    stray = tuple(sorted(install_tables(env) & galaxy_snapshot.tables))
    facts = PairFacts(galaxy, install, misplaced, stray)
    return replace(
        galaxy,
        state=galaxy.state if galaxy.state != "up-to-date" else install.state,
        branches=galaxy.branches | install.branches,
        rows=tuple(rid for rid in galaxy.rows + install.rows if rid not in wrong),
        unknown=galaxy.unknown + install.unknown,
        pair=facts,
    )


def _misplaced(graph: RevisionGraph, status: Status, other: str, belongs: DatabaseUrl) -> tuple[Misplaced, ...]:
    rows = [rid for rid in status.rows if graph.branch_of(rid) == other]
    return tuple(Misplaced(rid, other, status.database, belongs) for rid in rows)


def status_for(selection) -> Status:
    """The status of a selection: one database, or the galaxy database and its install database."""
    if selection.install is None:
        return get_status(selection.db, selection.graph, selection.env)
    return pair_status(selection.db, selection.install.db, selection.graph, selection.env)
