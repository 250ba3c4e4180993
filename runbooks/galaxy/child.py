"""The child's side: what runs inside a forked child of the Galaxy worker, one command a child.

``DbScript`` is what ``manage_db.sh`` and ``scripts/db_dev.sh`` run; Galaxy's
initialization is ``verify_databases_via_script``; its verdict is manage_db.sh's pre-check
then its startup check; the model drift is Alembic's ``compare_metadata`` against both of
Galaxy's models. This module hands them a URL, captures what they print, and records what
Galaxy's ``env.py`` hides: it swallows database errors during ``run_migrations()``, so every
database error any engine raises is recorded here through a SQLAlchemy event.

``run(request, db)`` answers one request of ``runbooks.galaxy.protocol``. Only the worker
imports this module; the parent's side is ``runbooks.galaxy.commands``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import warnings
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.environ import temporary_environ
from runbooks.galaxy.protocol import PROGRESS_PREFIX, CommandOutput
from runbooks.settings import GALAXY_DB_OVERRIDE_ENV, GALAXY_TSI_OVERRIDE_ENV

MIGRATION_LOGGER = "alembic.runtime.migration"
_progress_fd: int | None = None  # where revision-by-revision progress goes (the server's stdout)


def send_progress_to(fd: int | None) -> None:
    global _progress_fd
    _progress_fd = fd


def _send_progress(message: str) -> None:
    """One line per revision Alembic starts, as it starts it (a short write to a pipe is atomic)."""
    if _progress_fd is not None and message.startswith("Running "):
        os.write(_progress_fd, (PROGRESS_PREFIX + json.dumps({"message": message}) + "\n").encode())


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


def database_env(db: DatabaseUrl, install: DatabaseUrl | None = None):
    """Point Galaxy's configuration at ``db`` (and the tsi model at ``install``, else ``db`` too) the way an
    admin would: the override variables, which beat whatever the checkout's galaxy.yml names."""
    return temporary_environ({GALAXY_DB_OVERRIDE_ENV: db.secret(), GALAXY_TSI_OVERRIDE_ENV: (install or db).secret()})


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


@contextmanager
def _capture_migration_log() -> Iterator[list[str]]:
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(mask_text(record.getMessage()))
            _send_progress(lines[-1])

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


def dbscript(db: DatabaseUrl, install: DatabaseUrl | None = None):
    """Galaxy's ``DbScript`` (manage_db.sh / db_dev.sh) configured for ``db`` (and ``install`` for tsi)."""
    from galaxy.model.migrations.dbscript import DbScript

    quiet_galaxy_logging()
    with database_env(db, install):
        return DbScript()


def run_dbscript_here(
    db: DatabaseUrl, command: str, record_sql: bool = False, install: DatabaseUrl | None = None, **arguments
) -> CommandOutput:
    """Run one DbScript subcommand in this process and capture it.

    Alembic's CommandError propagates, as it does out of DbScript (``manage_db.sh`` prints
    ``FAILED: ...`` for it); database errors do not, because Galaxy's env swallows them:
    they are in ``errors``.
    """
    defaults = {"revision": None, "sql": False, "repair": False, "verbose": False, "indicate_current": False}
    script = dbscript(db, install)
    stdout = io.StringIO()
    script.alembic_config.stdout = stdout
    with database_env(db, install), recording(db, record_sql) as log, _capture_migration_log() as lines:
        try:
            getattr(script, command)(Namespace(**{**defaults, **arguments}))
        except Exception as error:  # keep what happened before it (a deadlock is re-raised by env.py)
            error.partial_output = CommandOutput(stdout.getvalue(), lines, log.errors, log.statements)
            raise
    return CommandOutput(mask_text(stdout.getvalue(), db.password), lines, log.errors, log.statements)


def initialize_here(db: DatabaseUrl, install: DatabaseUrl | None = None) -> None:
    """Galaxy's own first-start path: create the database(s) if needed, create_all, stamp both heads."""
    from galaxy.model.migrations import DatabaseConfig, verify_databases_via_script

    quiet_galaxy_logging()
    config = DatabaseConfig(db.secret(), None, None)
    install_config = DatabaseConfig(install.secret(), None, None) if install is not None else config
    verify_databases_via_script(config, install_config, False)  # no auto-migrate


def verdict_here(db: DatabaseUrl, install: DatabaseUrl | None = None) -> str:
    """What Galaxy says: verify_database_is_initialized (no script calls it in 26.1), then its startup check."""
    from galaxy.model.migrations.scripts import verify_database_is_initialized

    logging.disable(logging.CRITICAL)
    try:
        for each in (db, install) if install is not None else (db,):
            verify_database_is_initialized(each.secret())
        initialize_here(db, install)  # Galaxy's startup check: on an initialized database it only verifies
    except Exception as error:  # the answer is Galaxy's exception: type and exact text
        return mask_text(f"{error.__class__.__name__}: {error}", db.password, install and install.password)
    return "OK"


# -- the model drift: compare_metadata against galaxy.model and tool_shed_install --------


def _table_of(obj) -> str:
    table = getattr(obj, "table", None)
    if table is None and getattr(obj, "parent", None) is not None:  # a ForeignKeyConstraint's column
        table = getattr(obj.parent, "table", None)
    return getattr(table, "name", "") or ""


def _columns(obj) -> str:
    try:
        return ", ".join(c.name for c in obj.columns)
    except Exception:  # noqa: BLE001 - a constraint without columns: describe it without them
        return ""


def describe(diff) -> list[dict]:
    """Alembic's diff tuples (``modify_*`` come grouped in lists) as plain dictionaries."""
    if isinstance(diff, list):
        return [item for sub in diff for item in describe(sub)]
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        table = diff[1]
        return [{"kind": kind, "table": table.name, "name": table.name, "detail": ""}]
    if kind in ("add_column", "remove_column"):
        _, _schema, table, column = diff
        return [{"kind": kind, "table": table, "name": column.name, "detail": str(column.type)}]
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        unique = "unique, " if index.unique else ""
        return [{"kind": kind, "table": _table_of(index), "name": index.name or "", "detail": unique + _columns(index)}]
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        detail = f"{constraint.__class__.__name__} on {_columns(constraint)}"
        return [{"kind": kind, "table": _table_of(constraint), "name": constraint.name or "", "detail": detail}]
    if kind.startswith("modify_") and len(diff) >= 7:
        _, _schema, table, column, _existing, old, new = diff[:7]
        return [{"kind": kind, "table": table, "name": column, "detail": f"database {old!s}, model {new!s}"}]
    return [{"kind": kind, "table": "", "name": "", "detail": repr(diff[1:])[:200]}]


def drift_here(db: DatabaseUrl) -> list[dict]:
    """The database compared with both models' metadata: Alembic's differences as dictionaries."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from galaxy.model import Base as GalaxyBase
    from galaxy.model.tool_shed_install import Base as InstallBase
    from sqlalchemy import create_engine

    quiet_galaxy_logging()
    engine = create_engine(db.secret())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's table-sort cycle warnings about Galaxy's model
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diffs = compare_metadata(context, [GalaxyBase.metadata, InstallBase.metadata])
                items = [item for diff in diffs for item in describe(diff)]
                _mark_covered(conn, items)
    finally:
        engine.dispose()
    return items


def _mark_covered(conn, items: list[dict]) -> None:
    """A unique constraint the model wants that the database already enforces on the same columns.

    Galaxy's model declares some twice (``dataset.uuid``: ``unique=True`` and ``uq_uuid_column``);
    reflection returns one per column set, so autogenerate reports the other as missing.
    """
    from sqlalchemy import inspect

    inspector = inspect(conn)
    for item in items:
        if item["kind"] != "add_constraint" or not item["detail"].startswith("UniqueConstraint on "):
            continue
        wanted = set(item["detail"].removeprefix("UniqueConstraint on ").split(", "))
        existing = [set(u["column_names"]) for u in inspector.get_unique_constraints(item["table"])]
        existing += [set(i["column_names"]) for i in inspector.get_indexes(item["table"]) if i.get("unique")]
        item["covered"] = wanted in existing


def run(request: dict, db: DatabaseUrl) -> dict:
    """Answer one request (its reply, as ``runbooks.galaxy.protocol`` says); Galaxy's exceptions propagate."""
    command = request["command"]
    install = DatabaseUrl.parse(request["install_url"]) if request.get("install_url") else None
    if command == "verdict":
        return {"verdict": verdict_here(db, install)}
    if command == "drift":
        return {"differences": drift_here(db)}
    if command == "initialize":
        initialize_here(db, install)
        return CommandOutput("", [], [], []).to_reply()
    if command == "install_move":  # the install model moved between databases: runbooks.galaxy.install_move
        from runbooks.galaxy.install_move import install_move_here

        return install_move_here(request)
    if request.get("lock_timeout"):  # libpq reads PGOPTIONS at connect: every session Galaxy opens has it
        os.environ["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} -c lock_timeout={request['lock_timeout']}".strip()
    arguments = request.get("arguments", {})
    output = run_dbscript_here(db, command, request.get("record_sql", False), install, **arguments)
    return output.to_reply()
