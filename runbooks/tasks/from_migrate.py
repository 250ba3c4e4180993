"""From before 22.05 to Alembic as one task: where a database stands under SQLAlchemy Migrate, the path
(release 22.01's ``manage_db.sh upgrade`` to 180, then this code's upgrade), and each step run and read back.

The runbook (``notebooks/from-migrate.ipynb``) works on the database ``$RUNBOOK_DB_URL`` names, or on a
practice one: the PostgreSQL database Galaxy 21.09 made with its own code (Migrate version 179;
``release_databases/galaxy-data-21.9.0.migrate.postgresql.sql.gz``), loaded into a database of its own on
the server ``$RUNBOOK_PG_URL`` names and dropped at the end. Step 1 runs release 22.01's own code: a
checkout the user gives, or, for the practice database, a checkout-shaped tree of galaxy-data 22.1.1 in a
Python 3.9 virtualenv of its own (``runbooks.galaxy.release_trees``, the venv in the user's cache).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.database.backup import load_sql_file, make_backup
from runbooks.database.connections import drop_postgresql_database, recreate_postgresql_database
from runbooks.database.leftovers import PG_PREFIX, owner_tag
from runbooks.database.sessions import activity
from runbooks.errors import UsageError
from runbooks.galaxy.release_2201 import Release2201, locate, manage_db
from runbooks.galaxy.release_trees import release_2201_tree
from runbooks.paths import runbook_home
from runbooks.settings import DB_URL_ENV, PG_SERVER_ENV
from runbooks.tasks.legacy_plan import LAST, release_of
from runbooks.tasks.printed_commands import DatabaseArgs, command_line
from runbooks.tasks.revision_proof import pg_server
from runbooks.tasks.selection import Selection, select
from runbooks.tasks.status import Status, get_status

PRACTICE_DUMP = Path(__file__).resolve().parent / "release_databases" / "galaxy-data-21.9.0.migrate.postgresql.sql.gz"


def choose(galaxy_root: str = "", announce=print) -> tuple[Selection, bool]:
    """The user's database (``$RUNBOOK_DB_URL``, a checkout's), else the practice one: (selection, practice)."""
    selection = select(galaxy_root=galaxy_root or None, create_sample=False, announce=announce)
    if not selection.is_sample:
        return selection, False
    server = pg_server()
    if server is None:
        raise UsageError(
            f"the practice database is a PostgreSQL one Galaxy 21.09 made: set {PG_SERVER_ENV} to a server "
            f"(postgresql://USER@HOST:PORT/postgres), or {DB_URL_ENV} to your own database"
        )
    db = server.with_database(f"{PG_PREFIX}_{owner_tag()}_from_migrate")
    recreate_postgresql_database(db)
    with tempfile.TemporaryDirectory(prefix="runbooks-") as folder:
        sql = Path(folder) / "galaxy-21.09.sql"
        sql.write_bytes(gzip.decompress(PRACTICE_DUMP.read_bytes()))
        load_sql_file(sql, db)
    origin = "the practice database: Galaxy 21.09 made it with its own code, loaded from its pg_dump"
    return Selection(db, selection.env, "argument", origin), True


def path_text(status: Status, env: GalaxyEnv, database: DatabaseArgs | None = None) -> str:
    """The road for this database, in two steps, or why it needs none of them."""
    version = status.legacy_migrate_version
    if version is None:
        upgrade = command_line("upgrade", database=database)
        return f"Not under SQLAlchemy Migrate (state {status.state}): `{upgrade}` moves it, no step 1."
    first = (
        f"1. Galaxy 22.01 (release_22.01, its own virtualenv): sh manage_db.sh upgrade, Migrate {version} to {LAST}"
        if version < LAST
        else f"1. none: already at {LAST}, where Alembic takes over"
    )
    if version > LAST:
        first = f"1. Galaxy 22.01's manage_db.sh downgrade --version {LAST} first: {version} is past every release"
    return "\n".join(
        [
            f"SQLAlchemy Migrate version {version} ({release_of(version)})",
            first,
            f"2. {env.describe()}: upgrade; Alembic stamps its base at {LAST} and runs every gxy and tsi revision",
        ]
    )


def release_2201_code(root: str, practice: bool, folder: Path | None = None) -> Release2201 | None:
    """Release 22.01's code: ``root``, or for the practice database a tree of galaxy-data 22.1.1 (None if neither).

    The tree's venv is made once in the user's cache of pinned venvs (Python 3.9, a few minutes), then reused.
    """
    if root:
        return locate(root)
    if not practice:
        return None
    folder = folder or runbook_home() / "galaxy-22.01"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        release_2201_tree(folder)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        raise UsageError(f"Galaxy 22.01 could not be assembled: {exc}") from None
    return locate(folder)


@dataclass
class ReleaseStep:
    """Step 1 as it went: the Migrate versions before and read back after, and what 22.01's script said."""

    before: int | None
    after: int | None = None
    ran: bool = False
    exit_code: int | None = None
    output: str = ""
    backup: Path | None = None
    why_not: str = ""

    @property
    def at_handover(self) -> bool:
        return (self.after if self.ran else self.before) == LAST

    def text(self) -> str:
        if not self.ran:
            return f"Step 1 not run: {self.why_not}"
        said = [line for line in self.output.splitlines() if "->" in line or "Error" in line or "error" in line]
        lines = [
            f"Backup before step 1: {self.backup}",
            *said[-8:],
            f"(manage_db.sh upgrade exit code {self.exit_code})",
        ]
        lines.append(f"migrate_version read back: {self.after} (was {self.before})")
        return "\n".join(lines)


def run_release_step(selection: Selection, status: Status, code: Release2201 | None, apply: bool) -> ReleaseStep:
    """Back up, then release 22.01's ``manage_db.sh upgrade``; ``migrate_version`` read back afterwards."""
    step = ReleaseStep(status.legacy_migrate_version)
    if step.before is None or step.before >= LAST:
        step.why_not = (
            "the database is not below Migrate's last version" if step.before != LAST else f"already at {LAST}"
        )
        return step
    if code is None or not apply:
        step.why_not = "give release_2201_root (a release_22.01 checkout) and confirm=True to run it"
        return step
    blockers = activity(selection.db).blockers
    if blockers:
        step.why_not = "other sessions are on the database: " + "; ".join(blockers) + ". Stop Galaxy first"
        return step
    step.backup = make_backup(selection.db).path
    step.exit_code, step.output = manage_db(code, selection.db, "upgrade")
    step.ran = True
    step.after = get_status(selection.db, selection.graph, selection.env).legacy_migrate_version
    return step


def outcome(step: ReleaseStep, change_result: tuple[int, str] | None, after: Status) -> tuple[int, str]:
    """The runbook's last word: both steps as read back, and the state now."""
    state = f"The database is now {after.state} (alembic_version: {', '.join(after.rows) or 'no rows'})."
    if step.ran and step.after != LAST:
        return 1, f"NOT DONE: release 22.01's manage_db.sh upgrade left migrate_version at {step.after}. {state}"
    first = f"Release 22.01's manage_db.sh upgrade: migrate_version read back = {step.after} (was {step.before}). "
    if change_result is None:
        return (0 if after.state == "up-to-date" else 1), (first if step.ran else f"{step.text()}. ") + state
    code, text = change_result
    return code, (first if step.ran else "") + text


def drop_practice(selection: Selection, practice: bool) -> None:
    if practice:
        drop_postgresql_database(selection.db)
        shutil.rmtree(runbook_home() / "galaxy-22.01", ignore_errors=True)
