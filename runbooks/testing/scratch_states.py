"""Scratch databases in named broken states, one per doctor finding, and Galaxy's verdict on them.

Every state starts from a database Galaxy's own code made (``samples.make_sample``, or a
copy of one: a SQLite file copy, a PostgreSQL ``CREATE DATABASE ... TEMPLATE``), moved with
Galaxy's own commands where the problem is one Galaxy's commands create (a downgrade across
merges), and otherwise broken with a few direct SQL statements, printed by ``STATES``.

``galaxy_verdicts`` runs Galaxy's own checks on several databases in one fresh process:
``verify_database_is_initialized`` (what ``manage_db.sh`` runs first) and the startup check
(``verify_databases_via_script`` without auto-migrate), and returns Galaxy's exception type and
exact message for each, password masked.
"""

from __future__ import annotations

import shutil
import textwrap
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph, release_key
from runbooks.code.targets import release_back
from runbooks.database.connections import inspect_database
from runbooks.database.scratch import copy_database, create_empty, run_statements, scratch_database
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError, UsageError

UNKNOWN_REVISION = "0badc0ffee00"
# What the functions below give for the installed galaxy-data 26.1 (the tests' code). With another
# code (a checkout of an older release) they come from that code's own tags and revisions.
BEHIND_RELEASE = "26.0"  # behind_release(graph)
LEFTOVER = ("page", "source_invocation_id", "b75f0f4dbcd4")  # leftover(graph)
CROSSING_RELEASE = "25.0"  # crossing_release(graph)
DRIFT_COLUMN = ("job", "local_hack")
MIGRATE_TABLE = (
    "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL PRIMARY KEY, "
    "repository_path TEXT, version INTEGER)"
)


@dataclass(frozen=True)
class State:
    name: str
    finding: str  # the doctor code it produces
    start: str  # "none", "empty", "head" or "behind" (a database at BEHIND_RELEASE)
    sql: tuple[str, ...] = ()
    description: str = ""
    postgresql_first: tuple[str, ...] = ()  # what PostgreSQL needs first (it enforces what SQLite does not)
    available: bool = True  # False: this Galaxy code cannot make it (no merge to cross)

    def statements(self, db: DatabaseUrl) -> tuple[str, ...]:
        return self.sql if db.is_sqlite else self.postgresql_first + self.sql


def _gxy_head(graph: RevisionGraph) -> str:
    return graph.heads("gxy")[0]


def behind_release(graph: RevisionGraph) -> str:
    """The release a "behind" database is at: the one below the newest tag of this code."""
    return release_back(graph, 1)


def leftover(graph: RevisionGraph) -> tuple[str, str, str] | None:
    """(table, column, revision): a column the newest revision after behind_release that adds one adds (to a
    table the behind database has). Added by hand before the upgrade, it makes that revision fail."""
    from runbooks.code.objects import created_objects

    pending = graph.pending([graph.tag_revision(behind_release(graph)) or ""], "gxy")
    made = {rev_id: created_objects(graph.revisions[rev_id]) for rev_id in pending}
    new_tables = {o.name for objects in made.values() for o in objects if o.kind == "table"}
    for rev_id in reversed(pending):  # on a table the behind database has
        columns = [o for o in made[rev_id] if o.kind == "column" and not o.guarded and o.table not in new_tables]
        if columns:
            return columns[0].table or "", columns[0].name, rev_id
    return None  # no revision after behind_release adds a column to a table it has


def crossing_release(graph: RevisionGraph) -> str | None:
    """A release whose plain downgrade from head leaves side rows: the newest below the downgrade runbook's
    default (release_back 2), else the newest; None for code without such a merge (23.0 has none)."""
    from runbooks.tasks.migrate import make_plan

    below = release_key(release_back(graph, 2))
    heads = tuple(graph.heads())
    # more than Galaxy's one downgrade call: the plan adds the steps that undo the side rows
    crossing = [
        tag
        for tag in sorted(graph.release_tags, key=release_key, reverse=True)
        if graph.tag_revision(tag) != "base" and len(make_plan(graph, heads, tag, "downgrade").calls) > 1
    ]
    return next((tag for tag in crossing if release_key(tag) < below), crossing[0] if crossing else None)


def states(graph: RevisionGraph) -> dict[str, State]:
    head = _gxy_head(graph)
    table, column, _ = leftover(graph) or ("", "", "")
    behind = behind_release(graph)
    crossing = crossing_release(graph)
    legacy = ("DROP TABLE alembic_version", MIGRATE_TABLE)
    return {
        s.name: s
        for s in [
            State("missing", "database-missing", "none", description="no database at all"),
            State("empty", "database-empty", "empty", description="a database without tables"),
            State(
                "no-version-table",
                "no-version-table",
                "head",
                ("DROP TABLE alembic_version",),
                "a Galaxy schema at head whose alembic_version table was dropped",
            ),
            State(
                "migrate-wrong-version",
                "sqlalchemy-migrate-wrong-version",
                "head",
                legacy + ("INSERT INTO migrate_version VALUES ('Galaxy', 'lib/galaxy/model/migrate', 179)",),
                "under SQLAlchemy Migrate at version 179",
            ),
            State(
                "migrate-needs-alembic",
                "sqlalchemy-migrate-needs-alembic",
                "head",
                legacy + ("INSERT INTO migrate_version VALUES ('Galaxy', 'lib/galaxy/model/migrate', 180)",),
                "under SQLAlchemy Migrate at version 180, its last",
            ),
            State(
                "revision-missing",
                "revision-missing-for-branch",
                "head",
                (f"DELETE FROM alembic_version WHERE version_num = '{head}'",),
                "alembic_version without its gxy row",
            ),
            State("behind", "database-behind", "behind", description=f"at release {behind}"),
            State(
                "unknown-revision",
                "unknown-revision",
                "head",
                (f"UPDATE alembic_version SET version_num = '{UNKNOWN_REVISION}' WHERE version_num = '{head}'",),
                "at a revision this code does not have (as a newer Galaxy leaves it)",
            ),
            State(
                "multiple-current",
                "multiple-current-revisions",
                "head",
                description=f"Galaxy's own `downgrade {crossing}` from head, which crosses merge revisions"
                if crossing
                else "not made: no release of this code is below a merge revision",
                available=crossing is not None,
            ),
            State(
                "objects-already-exist",
                "objects-already-exist",
                "behind",
                (f"ALTER TABLE {table} ADD COLUMN {column} INTEGER",),
                f"at {behind}, with {table}.{column} added by hand before the upgrade that adds it"
                if table
                else f"not made: no revision after {behind} adds a column to a table it has",
                available=bool(table),
            ),
            State(
                "orphans",
                "foreign-key-orphans",
                "head",
                (
                    "INSERT INTO galaxy_user (id, email, password, create_time, update_time, deleted, purged, active)"
                    " VALUES (1, 'a@example.org', 'x', '2025-01-01', '2025-01-01', false, false, true)",
                    "INSERT INTO history (id, user_id, create_time, update_time, deleted, purged, importing, published)"
                    " VALUES (1, 1, '2025-01-01', '2025-01-01', false, false, false, false),"
                    " (2, 41, '2025-01-01', '2025-01-01', false, false, false, false),"
                    " (3, 42, '2025-01-01', '2025-01-01', false, false, false, false)",
                ),
                "histories whose user_id names users that do not exist",
                ("ALTER TABLE history DISABLE TRIGGER ALL",),  # as a data-only restore leaves it
            ),
            State(
                "drift",
                "schema-drift",
                "head",
                (f"ALTER TABLE {DRIFT_COLUMN[0]} ADD COLUMN {DRIFT_COLUMN[1]} TEXT",),
                "at head, with a column added by hand that the model does not have",
            ),
        ]
    }


# -- making them -------------------------------------------------------------------------


# The troubleshoot runbook and the tests call it by this name.
execute_sql = run_statements


def _move(
    db: DatabaseUrl, graph: RevisionGraph, target: str, plain_galaxy: bool = False, env: GalaxyEnv | None = None
) -> None:
    from runbooks.galaxy.commands import run_dbscript
    from runbooks.tasks import migrate

    if plain_galaxy:  # Galaxy's own downgrade, exactly as an admin types it
        run_dbscript(db, "downgrade", revision=target, env=env)
        return
    plan = migrate.make_plan(graph, migrate.read_rows(db), target, "downgrade")
    outcome = migrate.apply(db, plan, env=env)
    if not outcome.reached:
        raise RunbookError(f"{db} did not reach {target}: {outcome.errors[:1]}")


def make_state(
    name: str,
    db: DatabaseUrl,
    graph: RevisionGraph,
    head: DatabaseUrl | None = None,
    behind: DatabaseUrl | None = None,
    env: GalaxyEnv | None = None,
) -> State:
    """Make ``db`` (which must not exist) a scratch database in state ``name``, with ``env``'s code.

    ``head`` / ``behind``: databases of the same dialect, at head and at behind_release, to copy
    instead of running Galaxy's initialization again (seconds each); made when not given.
    """
    known = states(graph)
    if name not in known:
        raise UsageError(f"no scratch state {name!r}: choose one of {', '.join(known)}")
    state = known[name]
    if not state.available:
        raise UsageError(f"scratch state {name} cannot be made with this Galaxy code: {state.description}")
    if inspect_database(db).exists:
        raise UsageError(f"{db} already exists: a scratch state is made in a new database")
    if state.start == "none":
        return state
    if state.start == "empty":
        create_empty(db)
        return state
    from runbooks.tasks.samples import make_sample

    source = behind if state.start == "behind" else head
    if source is not None:
        copy_database(source, db)
    else:
        make_sample(db, behind_release(graph) if state.start == "behind" else None, graph, env)
    if name == "multiple-current":
        _move(db, graph, crossing_release(graph), plain_galaxy=True, env=env)
    execute_sql(db, state.statements(db))
    return state


def checkout_with_two_heads(folder: Path, graph: RevisionGraph, source: GalaxyEnv | None = None) -> GalaxyEnv:
    """A Galaxy-checkout-shaped tree (``lib/galaxy/model`` of ``source``'s code) plus a second gxy head.

    ``source``: the code ``graph`` was read from (default the installed package); a checkout's other
    ``lib/galaxy`` packages and its ``.venv`` are linked, so the tree runs that release's code. The
    extra revision branches off the parent of the current head, as a feature branch written before
    the last release revision and merged without re-parenting does.
    """
    source = source or GalaxyEnv.from_package()
    model_dir = source.migrations_dir.parent
    target = Path(folder) / "lib" / "galaxy" / "model"
    if not target.exists():
        shutil.copytree(model_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
        if source.root is not None:
            _link_rest_of_checkout(source, Path(folder))
    head = _gxy_head(graph)
    parent = graph.revisions[head].parents[0]
    (Path(folder) / "config").mkdir(exist_ok=True)
    extra = target / "migrations" / "alembic" / "versions_gxy" / "f00dfeed0001_feature_branch_revision.py"
    extra.write_text(
        textwrap.dedent(
            f'''\
            """feature branch revision

            Revision ID: f00dfeed0001
            Revises: {parent}
            Create Date: 2026-01-01 00:00:00
            """

            revision = "f00dfeed0001"
            down_revision = "{parent}"
            branch_labels = None
            depends_on = None


            def upgrade():
                pass


            def downgrade():
                pass
            '''
        )
    )
    return GalaxyEnv.from_checkout(folder)


def _link_rest_of_checkout(source: GalaxyEnv, folder: Path) -> None:
    """Every ``lib/galaxy`` package but ``model`` (copied), and the checkout's virtualenv, as links."""
    for entry in (source.lib_dir / "galaxy").iterdir():
        link = folder / "lib" / "galaxy" / entry.name
        if entry.name != "model" and not link.exists():
            link.symlink_to(entry)
    if source.python is not None:
        (folder / ".venv").symlink_to(source.python.parent.parent)


# -- what Galaxy's own code says --------------------------------------------------------------

OK = "OK"


def galaxy_verdicts(dbs: list[DatabaseUrl], env: GalaxyEnv | None = None) -> list[str]:
    """Galaxy's own verdict on each database ("OK" or "ExceptionType: message")."""
    from runbooks.galaxy.commands import verdict

    return [verdict(db, env) for db in dbs]


def _usable_template(template: DatabaseUrl | None, like: DatabaseUrl, graph: RevisionGraph) -> bool:
    """A template of the same dialect at this code's heads (the embedded sample is at the package's)."""
    if template is None or template.is_sqlite != like.is_sqlite:
        return False
    found = inspect_database(template)
    return found.exists and set(found.alembic_rows or ()) == set(graph.heads())


class ScratchSet:
    """Scratch databases of the selection's dialect: files in a folder, or databases on the same server.

    ``head`` is a database at head made by Galaxy's own initialization (for SQLite, a copy of
    ``template`` when given, e.g. the embedded sample); ``behind`` one at BEHIND_RELEASE. Each is a
    ``scratch_database``; ``cleanup()`` (or leaving a ``with ScratchSet(...)`` block) drops them all.
    """

    def __init__(
        self,
        like: DatabaseUrl,
        folder: Path,
        graph: RevisionGraph,
        template: DatabaseUrl | None = None,
        env: GalaxyEnv | None = None,
    ):
        self.like, self.folder, self.graph, self.env = like, Path(folder), graph, env
        self._scratches = ExitStack()
        self.head = self.url("_head")
        if _usable_template(template, like, graph):
            copy_database(template, self.head)
        else:
            from runbooks.tasks.samples import make_sample

            make_sample(self.head, None, graph, env)
        self._behind: DatabaseUrl | None = None

    def __enter__(self) -> ScratchSet:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def url(self, name: str) -> DatabaseUrl:
        """A new (not yet created) scratch database, dropped at ``cleanup()``."""
        where = None if self.like.is_sqlite else self.like
        return self._scratches.enter_context(scratch_database(where, folder=self.folder, name=name)).db

    @property
    def behind(self) -> DatabaseUrl:
        if self._behind is None:
            self._behind = self.url("_behind")
            copy_database(self.head, self._behind)
            _move(self._behind, self.graph, behind_release(self.graph), env=self.env)
        return self._behind

    def make(self, name: str) -> DatabaseUrl:
        state = states(self.graph)[name]
        db = self.url(name)
        behind = self.behind if state.start == "behind" else None
        make_state(name, db, self.graph, head=self.head, behind=behind, env=self.env)
        return db

    def cleanup(self) -> None:
        try:
            self._scratches.close()
        except Exception:  # noqa: BLE001 - best effort: a scratch database left behind is harmless
            pass
        if self.like.is_sqlite:
            shutil.rmtree(self.folder, ignore_errors=True)


def stamp_sql(revisions: list[str], create: bool = False) -> list[str]:
    """What ``alembic stamp`` (``run_alembic.sh stamp``) writes into the version table."""
    statements = []
    if create:
        statements.append(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    statements += [f"INSERT INTO alembic_version (version_num) VALUES ('{rid}')" for rid in revisions]
    return statements
