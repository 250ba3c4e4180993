"""The PostgreSQL migration lock: an advisory lock held by a session of its own, and watched.

The session is on the server's ``postgres`` database (so it survives a restore's rename and never
counts as a session on the database itself), its ``application_name`` naming the holder. It is
idle while Galaxy migrates, so it turns the server's idle limits off for itself
(``idle_session_timeout``, ``idle_in_transaction_session_timeout``: a role's setting would end it)
and keeps TCP alive. A watcher thread asks it every ``KEEPALIVE_S``; a session ended anyway (a
DBA's ``pg_terminate_backend``, a restarted server) is replaced at once and the lock taken again.
If another run took it meanwhile, ``lost`` says so, and the change reports it instead of Done.
"""

from __future__ import annotations

import os
import threading
import zlib

from runbooks.database.connections import connect_postgresql
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError

PG_LOCK_KEY = 0x52554E42  # "RUNB"
APP_PREFIX = "galaxy-runbooks-lock"
KEEPALIVE_S = 1.0
HOLDER_SQL = """
SELECT a.application_name, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s::oid AND l.objid = %s::oid AND l.objsubid = 2
AND l.pid <> pg_backend_pid()
"""
NO_IDLE_LIMITS = """
SELECT set_config(name, '0', false) FROM pg_settings
WHERE name IN ('idle_session_timeout', 'idle_in_transaction_session_timeout', 'statement_timeout', 'lock_timeout')
"""
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}


def database_key(db: DatabaseUrl) -> int:
    """The database's name: its identity on the server (advisory locks are the server's, so one database
    reached by any host name, port form or role is one key, and other servers never share it)."""
    return zlib.crc32(db.database_name.encode()) & 0x7FFFFFFF


def application_name(command: str) -> str:
    return f"{APP_PREFIX} {command} pid {os.getpid()}"[:63]


class AdvisoryLock:
    """The held lock; ``lost`` is None while it is ours, else why it is not."""

    def __init__(self, db: DatabaseUrl, command: str, conn) -> None:
        self.db, self.command, self.conn = db, command, conn
        self.lost: str | None = None
        self._guard = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._watch, name="migration-lock-keepalive", daemon=True).start()

    def release(self) -> None:
        self._stop.set()
        with self._guard:
            self.conn.close()

    def _watch(self) -> None:
        while not self._stop.wait(KEEPALIVE_S):
            with self._guard:
                if self._stop.is_set() or self.lost:
                    return
                if not _alive(self.conn):
                    self._take_again()

    def _take_again(self) -> None:
        self.conn.close()
        try:
            conn, holder = try_lock(self.db, self.command)
        except RunbookError as error:
            self.lost = f"its session was ended and the server could not be reached again ({error})"
            return
        if conn is None:
            who = holder[0] if holder else "another session"
            self.lost = f"its session was ended and another session took it ({who})"
            return
        self.conn = conn


def _alive(conn) -> bool:
    import psycopg2

    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except psycopg2.Error:
        return False


def try_lock(db: DatabaseUrl, command: str):
    """(the session holding the lock, None), or (None, (holder's application_name, started)) if taken."""
    name = application_name(command)
    try:
        conn = connect_postgresql(db.with_database("postgres"), application_name=name, **KEEPALIVES)
    except RunbookError:  # no access to the maintenance database: lock beside the database itself
        conn = connect_postgresql(db, application_name=name, **KEEPALIVES)
    conn.autocommit = True
    key = database_key(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute(NO_IDLE_LIMITS)
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (PG_LOCK_KEY, key))
            taken = cursor.fetchone()[0]
            # An advisory lock lives in one database: a run locking in ``postgres`` and one that cannot
            # reach it (locking beside the database) would both hold "the" lock. pg_locks is server-wide:
            # held anywhere else on the server, it is not ours (both may step back; never both go on).
            cursor.execute(HOLDER_SQL, (PG_LOCK_KEY, key))
            holder = cursor.fetchone()
            if taken and holder is None:
                return conn, None
    except BaseException:
        conn.close()
        raise
    conn.close()
    return None, holder or ("", None)
