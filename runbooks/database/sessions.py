"""Who else is using a database: PostgreSQL sessions and locks, SQLite file locks.

Nothing here changes or locks anything: PostgreSQL is read through ``pg_stat_activity``
and ``pg_locks``; SQLite's POSIX byte-range locks are *tested* with ``F_GETLK``, which
reports a conflicting lock and its owner's pid without taking one (so it never hangs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from runbooks.database.connections import read_only_cursor
from runbooks.database.sqlite_files import PENDING_BYTE, RESERVED_BYTE, SHARED_FIRST, SHARED_SIZE, lock_holder
from runbooks.database.urls import DatabaseUrl


@dataclass(frozen=True)
class Session:
    """Another PostgreSQL backend connected to the same database."""

    pid: int
    user: str
    application: str
    client: str
    state: str
    state_age_s: float | None
    transaction_age_s: float | None
    query: str
    wait_event: str | None
    blocked_by: tuple[int, ...] = ()
    relation_locks: tuple[str, ...] = ()

    @property
    def idle_in_transaction(self) -> bool:
        return self.state.startswith("idle in transaction")

    @property
    def would_block_migration(self) -> bool:
        """Holding locks on tables (or a transaction open) blocks ALTER TABLE until it ends."""
        return self.idle_in_transaction or bool(self.relation_locks)

    def describe(self) -> str:
        app = f" ({self.application})" if self.application else ""
        age = f" for {self.state_age_s:.0f}s" if self.state_age_s is not None else ""
        text = f"pid {self.pid} user {self.user}{app} from {self.client or 'local socket'}: {self.state}{age}"
        if self.relation_locks:
            text += f"; holds locks on {', '.join(self.relation_locks)}"
        if self.blocked_by:
            text += f"; waiting for pid {', '.join(map(str, self.blocked_by))}"
        if self.query:
            text += f"; last query: {self.query[:120]}"
        return text


def terminate_statement(pid: int) -> str:
    """The statement a user may choose to run to end a session (we never run it for them)."""
    return f"SELECT pg_terminate_backend({pid});"


_SESSIONS_SQL = """
SELECT a.pid, a.usename, a.application_name, COALESCE(host(a.client_addr), ''), COALESCE(a.state, ''),
       EXTRACT(EPOCH FROM now() - a.state_change), EXTRACT(EPOCH FROM now() - a.xact_start),
       COALESCE(a.query, ''), a.wait_event_type, pg_blocking_pids(a.pid),
       ARRAY(SELECT DISTINCT c.relname::text FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation' AND c.relkind IN ('r', 'p')
             ORDER BY 1)
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
  -- this tool's own brief read-only sessions (status, forecast, another run's pre-flight) block nothing;
  -- two migrations are kept apart by the migration lock, which names the other run
  AND a.application_name NOT LIKE 'galaxy-runbooks%'
ORDER BY a.pid
"""


def postgresql_sessions(db: DatabaseUrl) -> list[Session]:
    with read_only_cursor(db, "galaxy-runbooks-sessions") as cursor:
        cursor.execute(_SESSIONS_SQL)
        rows = cursor.fetchall()
    return [
        Session(
            pid=row[0],
            user=row[1] or "",
            application=row[2] or "",
            client=row[3],
            state=row[4],
            state_age_s=float(row[5]) if row[5] is not None else None,
            transaction_age_s=float(row[6]) if row[6] is not None else None,
            query=" ".join((row[7] or "").split()),
            wait_event=row[8],
            blocked_by=tuple(row[9] or ()),
            relation_locks=tuple(row[10] or ()),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class SqliteLock:
    kind: str  # "shared" (a reader), "reserved" (a writer's open transaction), "pending" (about to write)
    pid: int

    def describe(self) -> str:
        return f"pid {self.pid} holds a {self.kind} lock"


def sqlite_locks(path: os.PathLike) -> list[SqliteLock]:
    """Locks other processes hold on a SQLite file (rollback-journal mode), without waiting."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        found = []
        for kind, start, length in (
            ("pending", PENDING_BYTE, 1),
            ("reserved", RESERVED_BYTE, 1),
            ("shared", SHARED_FIRST, SHARED_SIZE),
        ):
            pid = lock_holder(fd, start, length)
            if pid is not None:
                found.append(SqliteLock(kind, pid))
        return found
    finally:
        os.close(fd)


@dataclass
class Activity:
    """Everything another client is doing with the database right now."""

    sessions: list[Session] = field(default_factory=list)
    sqlite: list[SqliteLock] = field(default_factory=list)

    @property
    def blockers(self) -> list[str]:
        """Descriptions of what would block (or be broken by) a schema change."""
        return [s.describe() for s in self.sessions if s.would_block_migration] + [
            lock.describe() for lock in self.sqlite
        ]

    @property
    def others(self) -> list[str]:
        return [s.describe() for s in self.sessions if not s.would_block_migration]


def activity(db: DatabaseUrl) -> Activity:
    if db.is_sqlite:
        path = db.sqlite_path
        return Activity(sqlite=sqlite_locks(path) if path.is_file() else [])
    return Activity(sessions=postgresql_sessions(db))
