"""Prove a new revision both ways on scratch databases, and see what still differs from the model.

For each dialect (SQLite always; PostgreSQL when a server is reachable): a scratch database
made by Galaxy's own initialization, brought to the revision's parent, then upgrade to the
revision, downgrade to the parent, upgrade again, each step through Galaxy's DbScript
(``migrate.make_plan``/``apply`` with the revision's environment: a workspace or a checkout)
and verified by reading ``alembic_version`` back. Then ``galaxy.commands.model_drift`` compares the
result with Galaxy's model. On PostgreSQL the SQL the first upgrade really executed is kept
for squawk. Scratch databases are removed afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph, read_revision
from runbooks.database.connections import connect_postgresql
from runbooks.database.scratch import copy_database, scratch_database
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError, UsageError
from runbooks.galaxy.commands import model_drift
from runbooks.galaxy.drift_report import DriftReport
from runbooks.lint.catalogue import Finding
from runbooks.settings import PG_SERVER_ENV

SQL_VERBS = ("CREATE", "ALTER", "DROP", "UPDATE", "DELETE", "INSERT", "TRUNCATE", "COMMENT")


# -- where scratch databases live ------------------------------------------------------


def reachable(server: DatabaseUrl) -> bool:
    try:
        connect_postgresql(server).close()
        return True
    except RunbookError:
        return False


def pg_server(db: DatabaseUrl | None = None, explicit: str | None = None) -> DatabaseUrl | None:
    """A PostgreSQL server for scratch databases: ``explicit``, else ``db``'s, else ``$RUNBOOK_PG_URL``.

    Nothing is guessed: without one of these, only SQLite is used. The URL's own database is
    only connected to (never changed); scratch databases are created beside it and dropped.
    """
    candidates = [explicit, db.secret() if db is not None and not db.is_sqlite else None, os.environ.get(PG_SERVER_ENV)]
    for text in candidates:
        if not text:
            continue
        server = DatabaseUrl.parse(text)
        if server.is_sqlite:
            raise UsageError(f"{server} is not a PostgreSQL URL: give postgresql://USER@HOST:PORT/DATABASE")
        if text is explicit:  # the user named it: why it cannot be reached is their answer
            connect_postgresql(server).close()
            return server
        if reachable(server):
            return server
    return None


def start_at(db: DatabaseUrl, env: GalaxyEnv, graph: RevisionGraph, parent: str) -> tuple[str, ...]:
    """Galaxy's own initialization of ``db``, then Galaxy's upgrade/downgrade to ``parent``.

    A workspace (or the package) initializes with the installed code, i.e. at the package
    head; a checkout initializes with its own code and model (at the checkout's head).
    """
    from runbooks.galaxy import commands as galaxy_commands
    from runbooks.tasks import migrate
    from runbooks.tasks.samples import make_sample

    if env.root is None and db.is_sqlite:
        copy_database(DatabaseUrl.parse(f"sqlite:///{_cached_head_sample()}"), db)
    elif env.root is None:
        make_sample(db)
    else:
        if db.is_sqlite:
            db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        galaxy_commands.initialize(db, env=env)
    rows = migrate.read_rows(db)
    if parent in rows:
        return rows
    rows = _unrun_head_at_parent(db, graph, rows, parent)
    if parent in rows:
        return rows
    direction = "downgrade" if parent in graph.ancestors(rows) else "upgrade"
    outcome = migrate.apply(db, migrate.make_plan(graph, rows, parent, direction), env=env)
    if not outcome.reached:
        raise RunbookError(f"the scratch database did not reach {parent}: {_why(outcome)}")
    return outcome.rows


def _unrun_head_at_parent(db: DatabaseUrl, graph: RevisionGraph, rows: tuple[str, ...], parent: str) -> tuple:
    """A checkout's initialization stamps its head, the new revision, without running it.

    The schema is then the model's. Without anything the revision creates, it is the parent's schema:
    the row becomes the parent (what ``run_alembic.sh stamp`` writes). With all of it (the model was
    changed first), the proof downgrades from there. With part of it, nothing can be proved.
    """
    from runbooks.code.objects import created_objects, schema_objects
    from runbooks.database.scratch import run_statements
    from runbooks.tasks import migrate

    stamped = [rid for rid in rows if rid in graph.children.get(parent, []) and not graph.children.get(rid)]
    if len(stamped) != 1:
        return rows
    new = stamped[0]
    made = created_objects(graph.revisions[new])
    found = schema_objects(db, {o.table or o.name for o in made})
    present = [o for o in made if found.has(o)]
    if not made or len(present) == len(made):
        return rows
    if present:
        raise RunbookError(
            f"Galaxy's initialization of this checkout already makes {', '.join(o.describe() for o in present)} "
            f"but not the rest of what {new} creates: change the model to match the whole revision (or undo "
            "the partial change), or prove it in a workspace"
        )
    run_statements(db, [f"UPDATE alembic_version SET version_num = '{parent}' WHERE version_num = '{new}'"])
    return migrate.read_rows(db)


def _cached_head_sample() -> Path:
    """A SQLite database Galaxy's installed code initialized at head, made once, then copied."""
    from runbooks.code.workspace import galaxy_data_version
    from runbooks.paths import cache_dir
    from runbooks.tasks.samples import make_sample

    path = cache_dir() / "cache" / f"head-galaxy-data-{galaxy_data_version()}.sqlite"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{uuid.uuid4().hex[:8]}.partial")
        make_sample(DatabaseUrl.parse(f"sqlite:///{partial}"))
        os.replace(partial, path)  # atomic: a concurrent run sees a whole file or none
    return path


def _why(outcome) -> str:
    if outcome.errors:
        return outcome.errors[0].splitlines()[0]
    return (
        f"alembic_version holds {', '.join(outcome.rows) or 'nothing'}, expected {', '.join(sorted(outcome.expected))}"
    )


def executed_ddl(statements: list[str]) -> list[str]:
    """The schema and data statements among everything sent (no catalogue reads, no alembic_version)."""
    kept = []
    for statement in statements:
        text = statement.strip().rstrip(";")
        if text.split(None, 1)[0].upper() in SQL_VERBS if text else False:
            if "alembic_version" not in text:
                kept.append(text)
    return kept


def squawk_findings(statements: list[str]) -> list[Finding]:
    """squawk's Galaxy-relevant findings on the SQL (which runs inside Alembic's transaction)."""
    from runbooks.lint.squawk import squawk_sql

    if not statements:
        return []
    return squawk_sql(";\n".join(statements) + ";\n", assume_in_transaction=True)


# -- the round trip --------------------------------------------------------------------


@dataclass
class Step:
    action: str
    target: str
    rows: tuple[str, ...]
    reached: bool
    seconds: float
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        verdict = "ok" if self.reached else "FAILED"
        rows = ", ".join(self.rows) or "(empty)"
        text = f"{self.action:<9} -> {self.target}: alembic_version {rows} [{verdict}, {self.seconds:.1f}s]"
        return text + "".join(f"\n      {e.splitlines()[0]}" for e in self.errors[:2])


@dataclass
class RoundTrip:
    dialect: str
    database: str
    steps: list[Step] = field(default_factory=list)
    drift: DriftReport | None = None
    statements: list[str] = field(default_factory=list)
    squawk: list[Finding] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and len(self.steps) == 3 and all(s.reached for s in self.steps)

    def text(self, drift: bool = True) -> str:
        lines = [
            f"{self.dialect}: {'PROVED' if self.ok else 'NOT PROVED'} ({self.seconds:.0f}s, scratch {self.database})"
        ]
        lines += [f"  {step.line()}" for step in self.steps]
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.statements:
            lines.append(f"  SQL the upgrade executed ({len(self.statements)} statement(s)):")
            lines += [f"    {s.splitlines()[0][:110]};" for s in self.statements]
            if self.squawk:
                lines.append("  squawk (rules for a live Galaxy):")
                lines += [f"    line {f.line}: {f.severity} [{f.rule}] {f.message}" for f in self.squawk]
            else:
                lines.append("  squawk: no findings")
        if drift and self.drift is not None:
            lines += ["  " + line for line in self.drift.text().splitlines()]
        return "\n".join(lines)


@dataclass
class Proof:
    revision: str
    parent: str
    trips: list[RoundTrip]

    @property
    def ok(self) -> bool:
        return bool(self.trips) and all(trip.ok for trip in self.trips)

    def text(self, drift: bool = True) -> str:
        head = f"Revision {self.revision} (parent {self.parent}): upgrade, downgrade, upgrade on scratch databases"
        return "\n\n".join([head] + [trip.text(drift) for trip in self.trips])


def revision_id(revision, graph: RevisionGraph) -> str:
    """A CreatedRevision, a revision file path, or an id/prefix."""
    if hasattr(revision, "revision") and hasattr(revision, "path"):
        return revision.revision
    if isinstance(revision, Path) or (isinstance(revision, str) and revision.endswith(".py")):
        found = read_revision(Path(revision), "gxy")
        if found is None:
            raise UsageError(f"{revision} is not a revision file: it assigns no `revision`")
        return found.id
    return graph.resolve(str(revision)).id


def round_trip(
    rev: str, parent: str, env: GalaxyEnv, graph: RevisionGraph, dialect: str, server: DatabaseUrl | None, drift: bool
) -> RoundTrip:
    from runbooks.tasks import migrate

    started = time.monotonic()
    with scratch_database(server if dialect == "postgresql" else None) as scratch:
        db = scratch.db
        trip = RoundTrip(dialect, str(db))
        try:
            start_at(db, env, graph, parent)
            for action, target in (("upgrade", rev), ("downgrade", parent), ("upgrade", rev)):
                record = dialect == "postgresql" and not trip.steps
                t0 = time.monotonic()
                plan = migrate.make_plan(graph, migrate.read_rows(db), target, action)
                outcome = migrate.apply(db, plan, record_sql=record, env=env)
                trip.steps.append(
                    Step(action, target, outcome.rows, outcome.reached, time.monotonic() - t0, outcome.errors)
                )
                if record:
                    trip.statements = executed_ddl(outcome.statements)
                if not outcome.reached:
                    break
            if trip.statements:
                trip.squawk = squawk_findings(trip.statements)
            if drift and trip.ok:
                trip.drift = model_drift(db, env)
        except RunbookError as error:
            trip.error = str(error)
    trip.seconds = time.monotonic() - started
    return trip


def prove_revision(
    revision,
    env: GalaxyEnv,
    *,
    server: DatabaseUrl | None = None,
    postgresql: bool = True,
    sqlite: bool = True,
    drift: bool = True,
) -> Proof:
    """Upgrade, downgrade, upgrade of ``revision`` on scratch SQLite (and PostgreSQL), then the drift.

    ``server``: a PostgreSQL server for the scratch database (default ``pg_server()``);
    ``postgresql=False``/``sqlite=False`` leave a dialect out.
    """
    graph = RevisionGraph.load(env)
    rev = revision_id(revision, graph)
    parents = graph.revisions[rev].parents
    if len(parents) != 1:
        raise UsageError(
            f"{rev} is a {'merge' if parents else 'base'} revision: there is no single parent to go back to"
        )
    if postgresql and server is None:
        server = pg_server()
    dialects = (["sqlite"] if sqlite else []) + (["postgresql"] if postgresql and server is not None else [])
    if not dialects:
        raise UsageError("no database to prove on: no PostgreSQL server is reachable and SQLite was turned off")
    trips = [round_trip(rev, parents[0], env, graph, dialect, server, drift) for dialect in dialects]
    return Proof(rev, parents[0], trips)


def rehearse_sql(revision, env: GalaxyEnv, server: DatabaseUrl) -> list[str]:
    """The SQL an upgrade to ``revision`` executes on PostgreSQL, from a scratch database at its parent."""
    trip_graph = RevisionGraph.load(env)
    rev = revision_id(revision, trip_graph)
    parents = trip_graph.revisions[rev].parents
    if len(parents) != 1:
        return []
    from runbooks.tasks import migrate

    if server is None:
        raise UsageError("no PostgreSQL server for a scratch database: set $RUNBOOK_PG_URL or pass one")
    with scratch_database(server) as scratch:
        db = scratch.db
        start_at(db, env, trip_graph, parents[0])
        outcome = migrate.apply(db, migrate.make_plan(trip_graph, migrate.read_rows(db), rev, "upgrade"), True, env=env)
        if not outcome.reached:
            raise RunbookError(f"the rehearsal of {rev} on PostgreSQL failed: {_why(outcome)}")
        return executed_ddl(outcome.statements)
