"""Attack: an ACCESS EXCLUSIVE lock on one of Galaxy's tables, held by an idle transaction.

The forecast read every table's size (``pg_total_relation_size``), which queues behind that lock
with no bound: ``upgrade`` hung silently before its pre-flight, deaf to ``--lock-timeout``, and
printed "no other sessions or locks" once the lock went. Every read-only session of the tool now
has a lock and statement bound: the command ends promptly, naming the holder, and changes nothing.
"""

from __future__ import annotations

import subprocess
import threading

import pytest

from runbooks.database.connections import connect_postgresql
from runbooks.tasks.forecast import table_bytes
from runbooks.tasks.migrate import read_rows

from attacks import assert_no_crash, attack, fingerprint
from conftest import run_cli

PROMPT_S = 120  # the bound (a few seconds) and the command's start, on a loaded 2-core machine


@pytest.fixture
def locked(pg_db):
    """A database, its content before, a DBA's session's pid holding ``job``, and how to let it go."""
    db = pg_db("26.0")
    before = (read_rows(db), fingerprint(db))
    holder = connect_postgresql(db, application_name="dba-maintenance")
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE job IN ACCESS EXCLUSIVE MODE")  # the transaction stays open
    yield db, before, holder.get_backend_pid(), holder.rollback
    holder.rollback()
    holder.close()


@attack("concurrency", "PostgreSQL: upgrade while a table is locked ACCESS EXCLUSIVE", "ends at once naming it, exit 1")
def test_upgrade_behind_an_exclusive_lock_ends(locked):
    db, before, pid, release = locked
    try:
        result = run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup", timeout=PROMPT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"upgrade still waiting after {PROMPT_S}s behind the lock")
    assert_no_crash(result)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    assert f"pid {pid}" in result.stdout + result.stderr and "no other sessions" not in result.stdout
    release()
    assert (read_rows(db), fingerprint(db)) == before


@pytest.mark.attack
def test_the_forecast_does_not_wait_for_a_locked_table(locked):
    db = locked[0]
    answer = {}
    reader = threading.Thread(target=lambda: answer.update(table_bytes(db)), daemon=True)
    reader.start()
    reader.join(PROMPT_S)
    assert not reader.is_alive(), "the forecast's size query waits for the lock"
    assert "job" in answer and "galaxy_user" in answer  # the locked table estimated without its lock
