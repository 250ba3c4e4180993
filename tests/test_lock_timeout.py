"""``--lock-timeout``: an upgrade behind a lock holder never makes Galaxy's readers queue for long.

From 25.0, ``a5c5455b849a`` drops ``job.params`` (ACCESS EXCLUSIVE on ``job``). A forgotten
transaction that read ``job`` holds it off; without a timeout the ALTER waits in the lock
queue and every later reader of ``job`` waits behind it for as long as the holder stays.
"""

from __future__ import annotations

import re
import threading
import time

from runbooks.database.connections import connect_postgresql
from runbooks.tasks.migrate import read_rows
from runbooks.testing.locks import idle_in_transaction

from attacks import assert_refused, fingerprint
from conftest import postgresql_from_release, run_cli

TIMEOUT_S = 1.0
JOB_LOCKER = "a5c5455b849a"  # drop job.params


class Probe:
    """A reader of ``job`` every 50 ms in its own session; the longest one query took."""

    def __init__(self, db):
        self.conn = connect_postgresql(db, application_name="probe-reader")
        self.conn.autocommit = True
        self.longest = 0.0
        self.queries = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute("SET statement_timeout = '60s'")  # a stuck probe fails the test, never hangs it
            while not self.stopping.is_set():
                started = time.monotonic()
                cursor.execute("SELECT count(*) FROM job")
                cursor.fetchone()
                self.longest = max(self.longest, time.monotonic() - started)
                self.queries += 1
                time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=90)
        self.conn.close()


def _upgrade(db, *extra):
    return run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup", *extra)


def test_readers_wait_at_most_the_timeout_then_the_retry_reaches_head(pg_database, graph):
    db = postgresql_from_release("25.0.4", pg_database())
    with idle_in_transaction(db, "job") as holder, Probe(db) as probe:
        result = _upgrade(db, "--ignore-sessions", "--lock-timeout", f"{TIMEOUT_S:g}s", "--retries", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT DONE" in result.stdout and f"lock held by: pid {holder}" in result.stdout, result.stdout
    assert "gave up waiting for a lock after 2 tries" in result.stdout
    printed = re.search(r"alembic_version read back: (.*) \(expected", result.stdout).group(1)
    rows = read_rows(db)
    assert set(printed.split(", ")) == set(rows)
    # the revisions before the one that needs job stayed committed; that one is not applied
    assert "63dc6cca023f" in rows and JOB_LOCKER not in graph.ancestors(rows)
    # the probe saw the queue (so the bound below is not vacuous), and never longer than the timeout + 1 s
    assert probe.queries > 20
    assert 0.3 < probe.longest <= TIMEOUT_S + 1.0, probe.longest

    retried = _upgrade(db, "--lock-timeout", f"{TIMEOUT_S:g}s")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert set(read_rows(db)) == set(graph.heads())


def test_lock_timeout_is_refused_on_sqlite(sqlite_db):
    db = sqlite_db("25.0")
    before = fingerprint(db)
    result = _upgrade(db, "--lock-timeout", "5s")
    assert_refused(result, "--lock-timeout is for PostgreSQL")
    assert fingerprint(db) == before


def test_bad_durations_and_lone_retries_are_refused(pg_database):
    db = postgresql_from_release("25.0.4", pg_database())
    before = fingerprint(db)
    assert_refused(_upgrade(db, "--lock-timeout", "soon"), "is not a duration")
    assert_refused(_upgrade(db, "--retries", "2"), "--retries needs --lock-timeout")
    assert fingerprint(db) == before
