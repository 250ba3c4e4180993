"""The database states of Galaxy's own migration tests, made for real, with three verdicts side by side.

Galaxy's ``test/unit/data/model/migrations/test_migrations.py`` names seven states, for a combined
database and for separate gxy and tsi databases (one in the state, the other at head): 1 tables
but no version table; 2 SQLAlchemy Migrate below its last version; 3 Migrate at its last (180 gxy,
17 tsi) without Alembic; 4 Migrate at last with Alembic stamped at the branch's base; 5 Alembic
mid-way; 6 Alembic at head; 7 empty. Galaxy's tests make them from toy metadata; here they are made
from real databases: Galaxy's own initialization (combined, and with an install URL), Galaxy's own
downgrade (state 5), the Migrate-era databases that releases 21.09 and 22.01 made themselves
(``release_databases``: states 2 and 3), and for the rest the exact table and rows Galaxy's fixtures
write (``migrate_version``, an Alembic stamp, a dropped version table).

For each: this tool's ``status`` state, its ``troubleshoot`` errors, and Galaxy's own verdict
(``verify_database_is_initialized`` then its startup check, ``runbooks.galaxy.commands.verdict``).
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.install_model import install_tables
from runbooks.code.revisions import RevisionGraph, release_key
from runbooks.database.scratch import copy_database, create_empty, run_statements
from runbooks.database.urls import DatabaseUrl
from runbooks.testing.scratch_states import MIGRATE_TABLE, stamp_sql

STATES = {
    1: "tables, no version table",
    2: "SQLAlchemy Migrate below its last version",
    3: "Migrate at its last version, no Alembic",
    4: "Migrate at last + Alembic at base",
    5: "Alembic mid-way",
    6: "Alembic at head",
    7: "empty",
    8: "gxy at head, tsi never initialized (Galaxy's test: partially upgraded, case 1)",
}
LAYOUTS = ("combined", "separate: gxy", "separate: tsi")  # which database is in the state
MIGRATE_RELEASES = {2: "21.9.0", 3: "22.1.1"}  # Migrate-era databases those releases' own code made
TSI_MIGRATE = {2: 16, 3: 17, 4: 17}


@dataclass(frozen=True)
class Row:
    layout: str
    state: int
    made: str  # how the database in the state was made
    status: str  # this tool's status state ("healthy" prefix when exit 0)
    troubleshoot: str  # error codes, or "no errors"
    galaxy: str  # "OK" or Galaxy's exception type
    galaxy_message: str

    @property
    def agrees(self) -> bool:
        return self.status.startswith("healthy") == (self.galaxy == "OK")

    def to_json(self) -> dict:
        return asdict(self) | {"agrees": self.agrees}


@dataclass
class Bases:
    """Databases Galaxy's own code made, copied for each state."""

    combined_head: DatabaseUrl
    combined_mid: DatabaseUrl
    pair_head: tuple[DatabaseUrl, DatabaseUrl]
    pair_mid: tuple[DatabaseUrl, DatabaseUrl]


def midway(graph: RevisionGraph) -> str:
    """The newest release tag below the gxy head (with galaxy-data 26.1: 26.1 itself, one revision back)."""
    head = graph.heads("gxy")[0]
    tags = sorted(graph.release_tags, key=release_key, reverse=True)
    return next(graph.release_tags[tag] for tag in tags if graph.release_tags[tag] not in ("base", head))


def make_bases(folder: Path, graph: RevisionGraph, env: GalaxyEnv) -> Bases:
    from runbooks.galaxy.commands import initialize, run_dbscript

    url = lambda name: DatabaseUrl.parse(f"sqlite:///{folder / name}")  # noqa: E731
    combined, pair = url("combined.sqlite"), (url("pair-gxy.sqlite"), url("pair-tsi.sqlite"))
    initialize(combined, env)
    initialize(pair[0], env, install_db=pair[1])
    mid, pair_mid = url("combined-mid.sqlite"), (url("pair-mid-gxy.sqlite"), url("pair-mid-tsi.sqlite"))
    for source, target in ((combined, mid), *zip(pair, pair_mid, strict=True)):
        copy_database(source, target)
    for db, install in ((mid, None), pair_mid):
        run_dbscript(db, "downgrade", env=env, install_db=install, revision=midway(graph))
    return Bases(combined, mid, pair, pair_mid)


def make_state(layout: str, state: int, folder: Path, bases: Bases, graph: RevisionGraph, env: GalaxyEnv):
    """``(galaxy database, install database or None, how it was made)``, or None: no such state."""
    name = f"{layout.replace(': ', '-')}-{state}"
    here = DatabaseUrl.parse(f"sqlite:///{folder / f'{name}.sqlite'}")
    if layout == "combined":
        return here, None, _combined(here, state, bases, graph)
    if state == 8:
        return None  # a combined database's case
    if layout == "separate: gxy":
        other = _copy(bases.pair_head[1], folder / f"{name}-tsi.sqlite")
        return here, other, _gxy(here, state, bases, graph, env)
    if state == 5:
        return None  # tsi has one revision: nothing is between its base and its head
    other = _copy(bases.pair_head[0], folder / f"{name}-gxy.sqlite")
    return other, here, _tsi(here, state, bases, graph)


def _copy(source: DatabaseUrl, path: Path) -> DatabaseUrl:
    target = DatabaseUrl.parse(f"sqlite:///{path}")
    copy_database(source, target)
    return target


def _migrate_release(db: DatabaseUrl, release: str) -> None:
    from runbooks.tasks.baseline import RELEASES

    with gzip.open(RELEASES / f"galaxy-data-{release}.migrate.sqlite.gz") as source, open(db.sqlite_path, "wb") as out:
        shutil.copyfileobj(source, out)


def _combined(db: DatabaseUrl, state: int, bases: Bases, graph: RevisionGraph) -> str:
    bases_rows = [graph.in_order("gxy")[0], graph.heads("tsi")[0]]
    if state in (1, 6):
        copy_database(bases.combined_head, db)
        if state == 1:
            run_statements(db, ["DROP TABLE alembic_version"])
            return "Galaxy's initialization, then its alembic_version dropped"
        return "Galaxy's initialization (one URL)"
    if state in (2, 3, 4):
        release = MIGRATE_RELEASES.get(state, "22.1.1")
        _migrate_release(db, release)
        if state == 4:
            run_statements(db, stamp_sql(bases_rows, create=True))
            return f"galaxy-data {release}'s own database (Migrate 180), stamped {', '.join(bases_rows)}"
        return f"galaxy-data {release}'s own database (Migrate {180 if state == 3 else 179})"
    if state == 5:
        copy_database(bases.combined_mid, db)
        return f"Galaxy's initialization, then its downgrade to {midway(graph)}"
    if state == 8:
        copy_database(bases.pair_head[0], db)
        return "the galaxy database of Galaxy's initialization with an install URL, used alone"
    create_empty(db)
    return "an empty SQLite file"


def _gxy(db: DatabaseUrl, state: int, bases: Bases, graph: RevisionGraph, env: GalaxyEnv) -> str:
    base = graph.in_order("gxy")[0]
    if state in (2, 3, 4):
        release = MIGRATE_RELEASES.get(state, "22.1.1")
        _migrate_release(db, release)
        run_statements(db, [f"DROP TABLE {table}" for table in sorted(install_tables(env))])
        made = f"galaxy-data {release}'s own database without the install model's tables"
        if state == 4:
            run_statements(db, stamp_sql([base], create=True))
            made += f", stamped {base}"
        return made
    if state == 7:
        create_empty(db)
        return "an empty SQLite file"
    copy_database(bases.pair_mid[0] if state == 5 else bases.pair_head[0], db)
    if state == 1:
        run_statements(db, ["DROP TABLE alembic_version"])
        return "Galaxy's initialization with an install URL, then alembic_version dropped"
    return "Galaxy's initialization with an install URL" + (
        f", then its downgrade to {midway(graph)}" if state == 5 else ""
    )


def _tsi(db: DatabaseUrl, state: int, bases: Bases, graph: RevisionGraph) -> str:
    if state == 7:
        create_empty(db)
        return "an empty SQLite file"
    copy_database(bases.pair_head[1], db)
    made = "Galaxy's initialization with an install URL"
    if state in (1, 2, 3):
        run_statements(db, ["DROP TABLE alembic_version"])
        made += ", then alembic_version dropped"
    if state in TSI_MIGRATE:
        version = TSI_MIGRATE[state]
        run_statements(db, [MIGRATE_TABLE, f"INSERT INTO migrate_version VALUES ('ToolShedInstall', '', {version})"])
        made += f", migrate_version {version}" + (
            f" (its Alembic row {graph.heads('tsi')[0]} is tsi's base)" if state == 4 else ""
        )
    return made


def evaluate(layout: str, state: int, db: DatabaseUrl, install, made: str, graph: RevisionGraph, env) -> Row:
    """status, troubleshoot and Galaxy's verdict on one state (the databases are copies: verdicts may write)."""
    from runbooks.doctor.diagnosis import diagnose
    from runbooks.doctor.pair_diagnosis import diagnose_pair
    from runbooks.galaxy.commands import verdict
    from runbooks.tasks.pair_status import pair_status
    from runbooks.tasks.status import get_status

    status = pair_status(db, install, graph, env) if install is not None else get_status(db, graph, env)
    if install is not None:
        report = diagnose_pair(db, install, graph, env, rehearse=False)
    else:
        report = diagnose(db, graph, env, rehearse=False)
    errors = sorted({f.code for f in report.findings if f.severity == "error"})
    said = verdict(db, env, install_db=install)
    kind, _, message = said.partition(": ")
    for each in (db, install):  # the scratch folder is no part of the answer
        message = message.replace(str(each.sqlite_path), "<file>") if each is not None else message
    shown = f"healthy ({status.state})" if status.is_healthy else status.state
    return Row(layout, state, made, shown, ", ".join(errors) or "no errors", kind, message)


def replay_states(folder: Path, graph: RevisionGraph, env: GalaxyEnv | None = None) -> list[Row]:
    """Every state in every layout, made in ``folder`` (SQLite), judged three ways."""
    env = env or GalaxyEnv.from_package()
    bases_folder = folder / "bases"
    bases_folder.mkdir(parents=True, exist_ok=True)
    bases = make_bases(bases_folder, graph, env)
    rows = []
    for layout in LAYOUTS:
        for state in STATES:
            made = make_state(layout, state, folder, bases, graph, env)
            if made is not None:
                rows.append(evaluate(layout, state, *made, graph, env))
    return rows
