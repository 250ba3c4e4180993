"""Lock holders for tests and demonstrations: another process or session in the database's way.

``sqlite_writer`` is a second process holding a write transaction on a SQLite file;
``idle_in_transaction`` a PostgreSQL session that read a table and stays idle in transaction
(as a forgotten psql does). Each yields the holder's pid and lets go when the block ends.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from runbooks.database.connections import connect_postgresql
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError


@contextmanager
def sqlite_writer(db: DatabaseUrl) -> Iterator[int]:
    """A second process holding a write transaction (BEGIN IMMEDIATE) on the file; yields its pid."""
    code = textwrap.dedent(
        """
        import sqlite3, sys
        conn = sqlite3.connect(sys.argv[1], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE alembic_version SET version_num = version_num")
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(db.sqlite_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        if process.stdout.readline().strip() != "locked":
            raise RunbookError("the lock-holding process did not start")
        yield process.pid
    finally:
        process.stdin.close()
        process.wait(timeout=10)


@contextmanager
def idle_in_transaction(db: DatabaseUrl, table: str = "job", application: str = "forgotten-psql") -> Iterator[int]:
    """A PostgreSQL session that read ``table`` and stays idle in transaction; yields its pid."""
    conn = connect_postgresql(db, application_name=application)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # psycopg2 opened a transaction: ACCESS SHARE held
            cursor.fetchone()
        yield pid
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()
