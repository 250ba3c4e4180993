"""Galaxy's own migration commands, driven in-process.

``DbScript`` is what ``manage_db.sh`` and ``scripts/db_dev.sh`` run; Galaxy's
initialization is ``verify_databases_via_script``. This module hands them a URL,
captures what they print, and records what Galaxy's ``env.py`` hides: it swallows
database errors during ``run_migrations()``, so every database error any engine
raises is recorded here through a SQLAlchemy event.
"""

from __future__ import annotations

import io
import logging
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from runbooks.code.environment import GalaxyEnv
from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.environ import temporary_environ
from runbooks.errors import RunbookError
from runbooks.paths import GALAXY_DB_OVERRIDE_ENV, GALAXY_TSI_OVERRIDE_ENV

MIGRATION_LOGGER = "alembic.runtime.migration"


class _MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = ()
        return True


def quiet_galaxy_logging() -> None:
    """Galaxy's base.py sets the root logger to DEBUG on import; put it back to warnings, masked."""
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    for handler in root.handlers:
        if not any(isinstance(f, _MaskingFilter) for f in handler.filters):
            handler.addFilter(_MaskingFilter())


def database_env(db: DatabaseUrl):
    """Point Galaxy's configuration at ``db`` the way an admin would: the override variables."""
    return temporary_environ({GALAXY_DB_OVERRIDE_ENV: db.secret(), GALAXY_TSI_OVERRIDE_ENV: None})


@dataclass
class DatabaseErrorLog:
    """Database errors raised inside any engine while recording, in order, masked."""

    errors: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    record_sql: bool = False
    secret: str | None = None

    def on_error(self, context) -> None:
        original = context.original_exception
        statement = (context.statement or "").strip()
        text = f"{original.__class__.__name__}: {str(original).strip()}"
        if statement:
            text += f"\n  while running: {statement[:500]}"
        self.errors.append(mask_text(text, self.secret))

    def on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.record_sql:
            self.statements.append(statement.strip())


@contextmanager
def recording(db: DatabaseUrl, record_sql: bool = False) -> Iterator[DatabaseErrorLog]:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    log = DatabaseErrorLog(record_sql=record_sql, secret=db.password)
    event.listen(Engine, "handle_error", log.on_error)
    event.listen(Engine, "before_cursor_execute", log.on_execute)
    try:
        yield log
    finally:
        event.remove(Engine, "handle_error", log.on_error)
        event.remove(Engine, "before_cursor_execute", log.on_execute)


@dataclass
class CommandOutput:
    stdout: str
    migration_log: list[str]
    errors: list[str]
    statements: list[str]


@contextmanager
def _capture_migration_log() -> Iterator[list[str]]:
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(mask_text(record.getMessage()))

    logger = logging.getLogger(MIGRATION_LOGGER)
    handler = _Collect(level=logging.INFO)
    previous = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        logger.propagate = True


def dbscript(db: DatabaseUrl):
    """Galaxy's ``DbScript`` (manage_db.sh / db_dev.sh) configured for ``db``."""
    from galaxy.model.migrations.dbscript import DbScript

    quiet_galaxy_logging()
    with database_env(db):
        return DbScript()


def run_dbscript_here(db: DatabaseUrl, command: str, record_sql: bool = False, **arguments) -> CommandOutput:
    """Run one DbScript subcommand in this process and capture it (the worker calls this).

    Alembic's CommandError propagates, as it does out of DbScript (``manage_db.sh`` prints
    ``FAILED: ...`` for it); database errors do not, because Galaxy's env swallows them:
    they are in ``errors``.
    """
    defaults = {"revision": None, "sql": False, "repair": False, "verbose": False, "indicate_current": False}
    script = dbscript(db)
    stdout = io.StringIO()
    script.alembic_config.stdout = stdout
    with database_env(db), recording(db, record_sql) as log, _capture_migration_log() as lines:
        try:
            getattr(script, command)(Namespace(**{**defaults, **arguments}))
        except Exception as error:  # keep what happened before it (a deadlock is re-raised by env.py)
            error.partial_output = CommandOutput(stdout.getvalue(), lines, log.errors, log.statements)
            raise
    return CommandOutput(mask_text(stdout.getvalue(), db.password), lines, log.errors, log.statements)


def initialize_here(db: DatabaseUrl) -> None:
    """Galaxy's own first-start path: create the database if needed, create_all, stamp both heads."""
    from galaxy.model.migrations import DatabaseConfig, verify_databases_via_script

    quiet_galaxy_logging()
    config = DatabaseConfig(db.secret(), None, None)
    verify_databases_via_script(config, config, False)


# -- each Galaxy command in a fresh process -----------------------------------------
#
# Galaxy's model and revision modules keep state between runs in one process (running a
# PostgreSQL migration then a SQLite downgrade in the same interpreter fails with
# "No such constraint"), so each command runs in a process of its own. The processes are
# forked from a server that has imported galaxy.model once (runbooks.galaxy.worker), so
# a command costs what it does, not a 4-second import each time.


class GalaxyCommandFailed(RunbookError):
    """Galaxy's code raised: its exception type and message, masked."""

    exit_code = 1

    def __init__(self, kind: str, message: str, partial: dict | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.galaxy_message = message
        partial = partial or {}
        self.migration_log: list[str] = partial.get("migration_log", [])
        self.errors: list[str] = partial.get("errors", [])


def _worker(request: dict, db: DatabaseUrl, env: GalaxyEnv | None = None) -> dict:
    from runbooks.galaxy.client import ask

    alembic_config = None
    if env is not None and env.root is None and env != GalaxyEnv.from_package():
        alembic_config = str(env.alembic_ini)  # a workspace copy of the environment
    lib_dir = str(env.lib_dir) if env is not None and env.root is not None else None
    reply = ask(request, db, lib_dir=lib_dir, alembic_config=alembic_config)
    if reply.get("exception"):
        failure = reply["exception"]
        raise GalaxyCommandFailed(failure["type"], failure["message"], failure.get("partial"))
    return reply


def run_dbscript(
    db: DatabaseUrl, command: str, record_sql: bool = False, env: GalaxyEnv | None = None, **arguments
) -> CommandOutput:
    """Run one DbScript subcommand (``upgrade``, ``downgrade``, ``dbversion``, ...) in a fresh process.

    Alembic's CommandError comes back as GalaxyCommandFailed (``manage_db.sh`` prints
    ``FAILED: ...`` for it); database errors do not raise, because Galaxy's env swallows
    them: they are in ``errors``.
    """
    request = {"command": command, "record_sql": record_sql, "arguments": arguments}
    reply = _worker(request, db, env)
    return CommandOutput(reply["stdout"], reply["migration_log"], reply["errors"], reply["statements"])


def initialize(db: DatabaseUrl, env: GalaxyEnv | None = None) -> None:
    """Galaxy's own first-start path (``verify_databases_via_script``), in a fresh process."""
    _worker({"command": "initialize"}, db, env)


def verdict(db: DatabaseUrl, env: GalaxyEnv | None = None) -> str:
    """Galaxy's own word on a database, changing nothing: "OK" or "ExceptionType: exact message".

    ``manage_db.sh``'s pre-check (missing or empty database) runs first, so Galaxy's startup
    check never gets to create or initialize anything.
    """
    return _worker({"command": "verdict"}, db, env)["verdict"]
