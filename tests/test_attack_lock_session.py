"""Attacks on the PostgreSQL migration lock's session: the server's idle limit, a DBA's terminate.

The lock is an advisory lock held by a session of its own, idle while Galaxy's worker migrates.
``idle_session_timeout`` on the role ended that session after its limit, and a
``pg_terminate_backend`` does the same: a second migration then got the lock while the first ran.
The lock's session now turns the idle limits off for itself, is watched, and is taken again at
once when it is ended; when another run got it meanwhile, the loss is reported (``lost``), never
silent.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from runbooks.database.advisory_lock import APP_PREFIX, KEEPALIVE_S, PG_LOCK_KEY, database_key
from runbooks.database.connections import connect_postgresql, run_admin_sql
from runbooks.database.migration_lock import acquire
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import Refused

from attacks import attack
from test_attack_concurrency import hold_lock, stop


@pytest.fixture
def impatient_role(pg_admin):
    """A role whose idle sessions the server ends after one second (dropped after the databases)."""
    name = f"runbooks_idle_{uuid.uuid4().hex[:8]}"
    run_admin_sql(
        pg_admin, f'CREATE ROLE "{name}" LOGIN SUPERUSER; ALTER ROLE "{name}" SET idle_session_timeout = \'1s\''
    )
    yield name
    try:
        run_admin_sql(pg_admin, f'DROP ROLE IF EXISTS "{name}"')
    except Exception:  # noqa: BLE001 - a failed test's leftovers: the run's cleanup drops those
        pass


def terminate_lock_session(db, pid: int) -> None:
    """A DBA's ``pg_terminate_backend`` on the lock session of the process ``pid`` (and no other)."""
    run_admin_sql(
        db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name LIKE '{APP_PREFIX} % pid {int(pid)}'",
    )


@attack("concurrency", "PostgreSQL: idle_session_timeout on the role ends the lock's idle session", "still refused")
def test_idle_limit_does_not_drop_the_lock(impatient_role, pg_db):
    db = DatabaseUrl(pg_db("26.0").url.set(username=impatient_role))
    holder = hold_lock(db)
    try:
        time.sleep(3)  # three times the role's idle limit
        with pytest.raises(Refused, match=f"pid {holder.pid}"):
            acquire(db, "upgrade").release()
    finally:
        stop(holder)


@attack("concurrency", "PostgreSQL: pg_terminate_backend on the lock's session", "taken again at once; still refused")
def test_terminated_lock_session_is_taken_again(pg_db):
    db = pg_db("26.0")
    holder = hold_lock(db)
    try:
        terminate_lock_session(db, holder.pid)
        time.sleep(3 * KEEPALIVE_S)
        with pytest.raises(Refused, match=f"pid {holder.pid}"):
            acquire(db, "upgrade").release()
    finally:
        stop(holder)


@attack("concurrency", "PostgreSQL: the lock's session ended and another took the lock", "the loss is reported")
def test_a_lost_lock_is_reported(pg_db):
    db = pg_db("26.0")
    lock = acquire(db, "upgrade")
    try:
        thief = connect_postgresql(db.with_database("postgres"))
        thief.autocommit = True
        terminate_lock_session(db, os.getpid())
        with thief.cursor() as cursor:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (PG_LOCK_KEY, database_key(db)))
                if cursor.fetchone()[0]:
                    break
        time.sleep(3 * KEEPALIVE_S)
        assert lock.lost and "another session" in lock.lost
        thief.close()
    finally:
        lock.release()
