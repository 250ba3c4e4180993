"""Connections that never change what they read, and PostgreSQL administration.

Reading commands go through ``inspect_database``: SQLite is opened read-only (a
missing file is reported, not created) and PostgreSQL connection failures become
one clear line.
"""

from __future__ import annotations

import shlex
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from runbooks.database.sqlite_files import exclusive_holder, hot_journal, process_command
from runbooks.database.urls import DatabaseUrl, mask_text, quoted
from runbooks.database.version_rows import BadRow, RawRow, classify
from runbooks.errors import DatabaseMissing, Refused, RunbookError, UsageError

CONNECT_TIMEOUT_S = 5
# No read of the tool waits without a bound: behind a table lock (an ALTER, a DBA's LOCK TABLE) a
# read gives up after READ_LOCK_TIMEOUT, and no read runs longer than READ_STATEMENT_TIMEOUT.
READ_LOCK_TIMEOUT = "3s"
READ_STATEMENT_TIMEOUT = "300s"


# -- reading a database without changing it -----------------------------------


@dataclass(frozen=True)
class DatabaseSnapshot:
    """What a reading command needs to know about a database."""

    exists: bool
    tables: frozenset[str] = frozenset()
    alembic_rows: tuple[str, ...] | None = None  # None: no alembic_version table; each revision id once
    migrate_version: int | None = None  # SQLAlchemy Migrate's version, when its table exists
    bad_version_rows: tuple[BadRow, ...] = ()  # rows of alembic_version that are not revision ids
    damage: str | None = None  # why the file cannot be read whole (a malformed page, names not UTF-8)

    @property
    def is_empty(self) -> bool:
        """No tables, or only the kombu_* tables a message queue may leave (Galaxy's rule)."""
        return all(name.startswith(("kombu_", "sqlite_")) for name in self.tables)


def inspect_database(db: DatabaseUrl) -> DatabaseSnapshot:
    return _inspect_sqlite(db) if db.is_sqlite else _inspect_postgresql(db)


def _inspect_sqlite(db: DatabaseUrl) -> DatabaseSnapshot:
    path = db.sqlite_path  # refuses directories and special files without opening them
    if not path.exists():
        return DatabaseSnapshot(exists=False)
    refuse_unreadable_sqlite(path)
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=CONNECT_TIMEOUT_S)
    except sqlite3.Error as error:
        raise UsageError(f"cannot open {path} read-only ({error}): check the path and its permissions") from None
    try:
        return _read_sqlite(conn)
    except UnicodeDecodeError:  # SQLite's own message quotes the schema's undecodable bytes
        return DatabaseSnapshot(exists=True, damage="its schema (sqlite_master) holds text that is not valid UTF-8")
    except sqlite3.DatabaseError as error:
        refuse_unreadable_sqlite(path, wait_s=0)  # a writer may have started since
        if _has_sqlite_header(path):
            return DatabaseSnapshot(exists=True, damage=f"SQLite cannot read it: {error}")
        raise UsageError(f"{path} is not a SQLite database ({error}): check the path") from None
    finally:
        conn.close()


def _read_sqlite(conn: sqlite3.Connection) -> DatabaseSnapshot:
    names = [bytes.fromhex(row[0]) for row in conn.execute("SELECT hex(name) FROM sqlite_master WHERE type='table'")]
    tables = {name.decode("utf-8", "backslashreplace") for name in names}
    undecodable = sorted(ascii(name.decode("utf-8", "backslashreplace")) for name in names if not _utf8(name))
    if undecodable:
        return DatabaseSnapshot(
            exists=True, tables=frozenset(tables), damage=f"table names that are not UTF-8: {', '.join(undecodable)}"
        )
    raw = None
    if "alembic_version" in tables:
        query = "SELECT typeof(version_num), hex(version_num) FROM alembic_version"
        raw = [RawRow(kind, None if kind == "null" else bytes.fromhex(data)) for kind, data in conn.execute(query)]
    return _snapshot(tables, raw, "sqlite", lambda sql: [row[0] for row in conn.execute(sql)])


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _has_sqlite_header(path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(16) == b"SQLite format 3\0"


def refuse_unreadable_sqlite(path, wait_s: float = CONNECT_TIMEOUT_S) -> None:
    """A file no read-only open can read now: locked by a writer, or a crashed writer's hot journal."""
    pid = exclusive_holder(path, wait_s)
    if pid is not None:
        command = mask_text(process_command(pid))
        who = f"pid {pid}" + (f" ({command})" if command else "")
        raise Refused(
            f"{path} is locked by {who}: it is writing to the database (an EXCLUSIVE lock) and nothing can read "
            f"it meanwhile; wait for pid {pid} to finish (or stop it), then run this again"
        )
    journal = hot_journal(path)
    if journal is not None:
        raise Refused(
            f"{path} has a hot rollback journal ({journal.name}) left by a writer that crashed mid-transaction; "
            f"SQLite rolls it back on the next read-write open (`sqlite3 {shlex.quote(str(path))} "
            "'PRAGMA quick_check;'`, or starting Galaxy); never delete the journal (that corrupts the database)"
        )


def _inspect_postgresql(db: DatabaseUrl) -> DatabaseSnapshot:
    import psycopg2

    try:
        conn = connect_postgresql(db)
    except DatabaseMissing:
        return DatabaseSnapshot(exists=False)
    try:
        return _read_postgresql(conn)
    except (psycopg2.errors.LockNotAvailable, psycopg2.errors.QueryCanceled) as error:
        first = mask_text(str(error), db.password).strip().splitlines()[0]
        raise Refused(
            f"reading {db.database_name} waited longer than the tool allows ({first}): another session holds a "
            "lock on Galaxy's tables; find it with pg_stat_activity, let it finish, then run this again"
        ) from None
    except psycopg2.errors.InsufficientPrivilege as error:
        first = mask_text(str(error), db.password).strip().splitlines()[0]
        raise Refused(
            f"role {db.url.username} may not read Galaxy's tables in {db.database_name} ({first}): "
            "use the role Galaxy's database_connection uses (it owns the tables)"
        ) from None
    finally:
        conn.close()


IN_SEARCH_PATH = "schemaname = ANY (current_schemas(false))"


def _read_postgresql(conn) -> DatabaseSnapshot:
    bounded_read_only(conn)
    with conn.cursor() as cursor:

        def query(sql: str) -> list:
            cursor.execute(sql)
            return [row[0] for row in cursor.fetchall()]

        tables = set(query(f"SELECT tablename FROM pg_catalog.pg_tables WHERE {IN_SEARCH_PATH}"))
        raw = None
        if "alembic_version" in tables:
            values = query("SELECT version_num::text FROM alembic_version")
            raw = [RawRow("null", None) if v is None else RawRow("text", v.encode()) for v in values]
        return _snapshot(tables, raw, "postgresql", query)


def _snapshot(tables: set[str], raw: list[RawRow] | None, dialect: str, query) -> DatabaseSnapshot:
    rows, bad = classify(raw, dialect) if raw is not None else (None, ())
    migrate = None
    if "migrate_version" in tables:
        values = query("SELECT version FROM migrate_version")
        migrate = _as_int(values[0]) if values else None
    return DatabaseSnapshot(
        exists=True, tables=frozenset(tables), alembic_rows=rows, migrate_version=migrate, bad_version_rows=bad
    )


# -- PostgreSQL connections with clear errors ----------------------------------


@contextmanager
def read_only_cursor(db: DatabaseUrl, application_name: str = "galaxy-runbooks") -> Iterator:
    """A psycopg2 cursor on a read-only, autocommit session: for reading commands."""
    conn = connect_postgresql(db, application_name=application_name)
    try:
        bounded_read_only(conn)
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def bounded_read_only(conn) -> None:
    """A read-only, autocommit session whose statements wait for a lock, and run, only so long."""
    conn.set_session(readonly=True, autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
            (READ_LOCK_TIMEOUT, READ_STATEMENT_TIMEOUT),
        )


def connect_postgresql(db: DatabaseUrl, **kwargs):
    """A psycopg2 connection, or one clear line saying why there is none."""
    import psycopg2

    params = {
        "dbname": db.url.database,
        "user": db.url.username,
        "password": db.url.password,
        "host": db.url.host,
        "port": db.url.port,
        "connect_timeout": CONNECT_TIMEOUT_S,
        "application_name": "galaxy-runbooks",
    }
    params.update({key: value for key, value in db.url.query.items() if isinstance(value, str)})
    params.update(kwargs)
    try:
        return psycopg2.connect(**{key: value for key, value in params.items() if value is not None})
    except psycopg2.OperationalError as error:
        raise postgresql_error(db, error) from None
    except psycopg2.ProgrammingError as error:  # libpq rejects the URL's options before connecting
        first = mask_text(str(error), db.password).strip().splitlines()[0]
        raise UsageError(f"cannot connect to {db} ({first}): check the options after ? in the URL") from None


def postgresql_error(db: DatabaseUrl, error: Exception) -> RunbookError:
    text = mask_text(str(error), db.password).strip()
    where = f"{db.url.host or 'localhost'}:{db.url.port or 5432}"
    first = text.splitlines()[0] if text else error.__class__.__name__
    if "does not exist" in text and "database" in text:
        return DatabaseMissing(f"database {db.database_name!r} does not exist on {where}")
    if "Connection refused" in text or "could not connect" in text or "timeout expired" in text:
        return UsageError(f"cannot reach PostgreSQL at {where} ({first}): is the server running and the address right?")
    if "password authentication failed" in text or "role" in text and "does not exist" in text:
        return UsageError(f"PostgreSQL at {where} refused the login ({first}): check the user and password in the URL")
    if "could not translate host name" in text:
        return UsageError(f"unknown host in {db} ({first}): check the host name")
    return UsageError(f"cannot connect to {db} ({first})")


def run_autocommit(db: DatabaseUrl, statements: list[str]) -> None:
    """Statements one by one on ``db``, each committed on its own (as psql runs a script)."""
    conn = connect_postgresql(db)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


def run_admin_sql(server: DatabaseUrl, sql: str) -> None:
    """One statement on the server's maintenance database (CREATE/DROP DATABASE), autocommit."""
    run_autocommit(server.with_database("postgres"), [sql])


def drop_postgresql_database(db: DatabaseUrl) -> None:
    """Drop ``db``'s database, ending its sessions (PostgreSQL 13+)."""
    run_admin_sql(db, f"DROP DATABASE IF EXISTS {quoted(db.database_name)} WITH (FORCE)")


# How PostgreSQL 15+ copies a template. WAL_LOG (its default) writes every page of the copy
# through the WAL (and to every replica): its time grows with the size (136 s at 19 GB in
# bench/results). FILE_COPY copies the files (78 s there) but makes the server write
# checkpoints, which on a server busy writing cost seconds whatever the size (4.6 s against
# WAL_LOG's 0.9 s for a 0.1 GB copy in one bench run): WAL_LOG below 1 GiB, FILE_COPY above.
FILE_COPY_FROM_BYTES = 1024**3


def recreate_postgresql_database(db: DatabaseUrl, template: str | None = None) -> None:
    """Drop (ending its sessions) and create ``db``'s database, optionally a copy of a template."""
    drop_postgresql_database(db)
    if template is None:
        run_admin_sql(db, f"CREATE DATABASE {quoted(db.database_name)}")
        return
    conn = connect_postgresql(db.with_database("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            strategy = ""
            if conn.server_version >= 150000:
                cursor.execute("SELECT pg_database_size(%s)", (template,))
                strategy = " STRATEGY " + ("FILE_COPY" if cursor.fetchone()[0] >= FILE_COPY_FROM_BYTES else "WAL_LOG")
            cursor.execute(f"CREATE DATABASE {quoted(db.database_name)} TEMPLATE {quoted(template)}{strategy}")
    finally:
        conn.close()
