"""Connections that never change what they read, and PostgreSQL administration.

Reading commands go through ``inspect_database``: SQLite is opened read-only (a
missing file is reported, not created) and PostgreSQL connection failures become
one clear line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from runbooks.database.urls import DatabaseUrl, mask_text, quoted
from runbooks.errors import DatabaseMissing, RunbookError, UsageError

CONNECT_TIMEOUT_S = 5


# -- reading a database without changing it -----------------------------------


@dataclass(frozen=True)
class DatabaseSnapshot:
    """What a reading command needs to know about a database."""

    exists: bool
    tables: frozenset[str] = frozenset()
    alembic_rows: tuple[str, ...] | None = None  # None: no alembic_version table
    migrate_version: int | None = None  # SQLAlchemy Migrate's version, when its table exists

    @property
    def is_empty(self) -> bool:
        """No tables, or only the kombu_* tables a message queue may leave (Galaxy's rule)."""
        return all(name.startswith(("kombu_", "sqlite_")) for name in self.tables)


def inspect_database(db: DatabaseUrl) -> DatabaseSnapshot:
    return _inspect_sqlite(db) if db.is_sqlite else _inspect_postgresql(db)


def _inspect_sqlite(db: DatabaseUrl) -> DatabaseSnapshot:
    path = db.sqlite_path
    if not path.exists():
        return DatabaseSnapshot(exists=False)
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a SQLite database file: give the path of the .sqlite file")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=CONNECT_TIMEOUT_S)
    except sqlite3.Error as error:
        raise UsageError(f"cannot open {path} read-only ({error}): check the path and its permissions") from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return _snapshot(tables, lambda sql: [row[0] for row in conn.execute(sql)])
    except sqlite3.DatabaseError as error:
        raise UsageError(f"{path} is not a SQLite database ({error}): check the path") from None
    finally:
        conn.close()


def _inspect_postgresql(db: DatabaseUrl) -> DatabaseSnapshot:
    try:
        conn = connect_postgresql(db)
    except DatabaseMissing:
        return DatabaseSnapshot(exists=False)
    try:
        conn.set_session(readonly=True, autocommit=True)
        with conn.cursor() as cursor:

            def query(sql: str) -> list:
                cursor.execute(sql)
                return [row[0] for row in cursor.fetchall()]

            tables = set(
                query("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = ANY (current_schemas(false))")
            )
            return _snapshot(tables, query)
    finally:
        conn.close()


def _snapshot(tables: set[str], query) -> DatabaseSnapshot:
    rows = tuple(query("SELECT version_num FROM alembic_version")) if "alembic_version" in tables else None
    migrate = None
    if "migrate_version" in tables:
        values = query("SELECT version FROM migrate_version")
        migrate = int(values[0]) if values else None
    return DatabaseSnapshot(exists=True, tables=frozenset(tables), alembic_rows=rows, migrate_version=migrate)


# -- PostgreSQL connections with clear errors ----------------------------------


@contextmanager
def read_only_cursor(db: DatabaseUrl, application_name: str = "galaxy-runbooks") -> Iterator:
    """A psycopg2 cursor on a read-only, autocommit session: for reading commands."""
    conn = connect_postgresql(db, application_name=application_name)
    try:
        conn.set_session(readonly=True, autocommit=True)
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


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


def run_admin_sql(server: DatabaseUrl, sql: str) -> None:
    """One statement on the server's maintenance database (CREATE/DROP DATABASE), autocommit."""
    conn = connect_postgresql(server.with_database("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def drop_postgresql_database(db: DatabaseUrl) -> None:
    """Drop ``db``'s database, ending its sessions (PostgreSQL 13+)."""
    run_admin_sql(db, f"DROP DATABASE IF EXISTS {quoted(db.database_name)} WITH (FORCE)")


def recreate_postgresql_database(db: DatabaseUrl, template: str | None = None) -> None:
    """Drop (ending its sessions) and create ``db``'s database, optionally from a template."""
    drop_postgresql_database(db)
    suffix = f" TEMPLATE {quoted(template)}" if template else ""
    run_admin_sql(db, f"CREATE DATABASE {quoted(db.database_name)}{suffix}")
