"""Faults: the upgrade process killed with SIGKILL half-way; a database held by someone else.

Afterwards status must tell the truth (what alembic_version really holds, as Galaxy's own
dbversion reads it) and `restore` must give back the database exactly as backed up.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from runbooks.database.connections import connect_postgresql
from runbooks.galaxy import commands as galaxy_commands
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.samples import make_sample

from conftest import PROJECT, run_cli
from test_status import status_json


def start_upgrade(db) -> tuple[subprocess.Popen, str]:
    """The CLI upgrade in its own process group; returns it once the backup is made."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runbooks", "upgrade", "--db", db.secret(), "--yes"],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in process.stdout:
        found = re.match(r"Backup: (\S+) ", line)
        if found:
            return process, found.group(1)
    raise AssertionError(f"no backup line: {process.stderr.read()}")


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for(condition, timeout=120.0, every=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def galaxy_dbversion_rows(db) -> set[str]:
    out = galaxy_commands.run_dbscript(db, "dbversion").stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def sqlite_dump(path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return list(conn.iterdump())


def test_sigkill_during_sqlite_upgrade(sqlite_db):
    db = sqlite_db("25.0")
    start_rows = set(read_rows(db))
    process, backup = start_upgrade(db)
    assert wait_for(lambda: set(read_rows(db)) != start_rows), "the upgrade never started"
    kill(process)
    # status tells the truth: the rows Galaxy's own dbversion sees, and not at head
    report = status_json(db)
    assert set(report["alembic_version_rows"]) == galaxy_dbversion_rows(db)
    assert report["state"] in ("behind", "multiple-current")
    assert set(report["alembic_version_rows"]) != start_rows
    assert report["branches"]["gxy"]["pending"], "a killed upgrade must not look finished"
    # restore gives back exactly what was backed up
    restored = run_cli("restore", backup, "--db", db.secret(), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert sqlite_dump(db.sqlite_path) == sqlite_dump(backup)
    assert set(read_rows(db)) == start_rows


def pg_schema_and_counts(db) -> tuple[list[str], dict]:
    url = db.url
    dump = subprocess.run(
        ["pg_dump", "-s", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username, "-d", db.database_name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    schema = [line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))]
    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            tables = [row[0] for row in cursor.fetchall()]
            counts = {}
            for table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                counts[table] = cursor.fetchone()[0]
    finally:
        conn.close()
    return schema, counts


def migration_session_active(db) -> bool:
    conn = connect_postgresql(db.with_database("postgres"))
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state <> 'idle' "
                "AND query ILIKE ANY (ARRAY['%%ALTER%%', '%%CREATE%%', '%%alembic_version%%', '%%DROP%%'])",
                (db.database_name,),
            )
            return cursor.fetchone()[0] > 0
    finally:
        conn.close()


def test_sigkill_during_postgresql_upgrade(pg_database, graph):
    db = pg_database()
    make_sample(db, "25.0", graph)
    before = pg_schema_and_counts(db)
    start_rows = set(read_rows(db))
    process, backup = start_upgrade(db)
    assert wait_for(lambda: migration_session_active(db), every=0.02), "the upgrade never reached the database"
    kill(process)
    # PostgreSQL runs Galaxy's upgrade in one transaction: the kill rolls all of it back.
    assert wait_for(lambda: not migration_session_active(db), timeout=30)
    report = status_json(db)
    assert set(report["alembic_version_rows"]) == galaxy_dbversion_rows(db) == start_rows
    assert report["state"] == "behind"
    restored = run_cli("restore", backup, "--db", db.secret(), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert pg_schema_and_counts(db) == before


def test_postgresql_session_holding_a_lock_is_refused_not_waited_for(pg_database, graph):
    db = pg_database()
    make_sample(db, "25.1", graph)  # the upgrade drops job.params (a5c5455b849a)
    holder = connect_postgresql(db, application_name="galaxy-handler")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM job")  # now idle in transaction, holding a lock on job
        started = time.monotonic()
        result = run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup", timeout=120)
        assert time.monotonic() - started < 60
        assert result.returncode == 1
        assert f"pid {holder.get_backend_pid()}" in result.stderr and "galaxy-handler" in result.stderr
        assert "holds locks on job" in result.stderr
        assert set(read_rows(db)) == {"63dc6cca023f", "d4a650f47a3c"}
    finally:
        holder.close()


@pytest.mark.parametrize("tag", ["25.0"])
def test_kill_leaves_no_false_success_in_status_human_output(sqlite_db, tag):
    db = sqlite_db(tag)
    start = set(read_rows(db))
    process, _ = start_upgrade(db)
    # the kill must land during the migration: after its first revision, before the CLI ends
    assert wait_for(lambda: set(read_rows(db)) != start or process.poll() is not None), "the upgrade never started"
    assert process.poll() is None, "the upgrade ended before the kill: this run proves nothing"
    kill(process)
    assert set(read_rows(db)) != start
    human = run_cli("status", "--db", db.secret())
    assert human.returncode == 1 and "up-to-date" not in human.stdout
