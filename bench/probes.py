"""Side sessions watching a migration: small readers and writers of job, dataset and history, and pg_locks.

Each probe runs one small query every 50 ms in its own autocommit session and keeps the
longest time one query took (how long Galaxy's web handlers would have stalled). The lock
sampler reads ``pg_locks`` every 20 ms and keeps, for each (table, mode) the other sessions
held or waited for, when it was first and last seen.
"""

from __future__ import annotations

import threading
import time

from runbooks.database.connections import connect_postgresql

PROBES = {
    table: (f"SELECT id FROM {table} ORDER BY id DESC LIMIT 5", f"UPDATE {table} SET update_time = now() WHERE id = 1")
    for table in ("job", "dataset", "history")
}
_LOCKS_SQL = """
SELECT c.relname::text, l.mode, l.granted FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid
WHERE a.datname = current_database() AND l.pid <> pg_backend_pid()
  AND a.application_name NOT LIKE 'probe-%%' AND c.relkind IN ('r', 'p')
  AND c.relnamespace = 'public'::regnamespace
"""


class _Loop:
    def __init__(self, db, name: str, period: float):
        self.conn = connect_postgresql(db, application_name=name)
        self.conn.autocommit = True
        self.period = period
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute("SET statement_timeout = '600s'")
            while not self.stopping.is_set():
                self.step(cursor)
                time.sleep(self.period)

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=700)
        self.conn.close()


class Probe(_Loop):
    def __init__(self, db, table: str, kind: str):
        super().__init__(db, f"probe-{kind}-{table}", 0.05)
        self.sql = PROBES[table][0 if kind == "reader" else 1]
        self.longest, self.queries = 0.0, 0

    def step(self, cursor) -> None:
        started = time.monotonic()
        cursor.execute(self.sql)
        self.longest = max(self.longest, time.monotonic() - started)
        self.queries += 1


class LockSampler(_Loop):
    def __init__(self, db):
        super().__init__(db, "probe-lock-sampler", 0.02)
        # (table, mode) -> [first seen, last seen, the previous sample's start]: the lock was
        # taken after that previous sample read pg_locks and before the first one that saw it
        self.seen: dict[tuple[str, str], list[float]] = {}
        self.waited: set[tuple[str, str]] = set()
        self.previous = time.time()

    def step(self, cursor) -> None:
        started = time.time()
        cursor.execute(_LOCKS_SQL)
        now = time.time()
        for table, mode, granted in cursor.fetchall():
            span = self.seen.setdefault((table, mode), [now, now, self.previous])
            span[1] = now
            if not granted:
                self.waited.add((table, mode))
        self.previous = started


class Watch:
    """All probes (reader and writer of each table) and the lock sampler, for the length of a block."""

    def __init__(self, db):
        self.probes = [Probe(db, table, kind) for table in PROBES for kind in ("reader", "writer")]
        self.sampler = LockSampler(db)

    def __enter__(self):
        for loop in [*self.probes, self.sampler]:
            loop.start()
        return self

    def __exit__(self, *exc) -> None:
        for loop in [*self.probes, self.sampler]:
            loop.stop()

    def longest_blocks(self) -> dict[str, float]:
        return {f"{p.sql.split()[0].lower()} {_table(p.sql)}": round(p.longest, 3) for p in self.probes}


def _table(sql: str) -> str:
    words = sql.split()
    return words[words.index("FROM") + 1] if "FROM" in words else words[1]
