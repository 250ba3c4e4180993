"""Galaxy issue 13528: "How to handle migrations.IncorrectVersionError" — a database under SQLAlchemy
Migrate below version 180 meets Galaxy with Alembic, which only takes over from 180.

Made the way such a database came to be: Galaxy 21.09's own first start (galaxy-data 21.9.0 on
Python 3.9, every galaxy-* package pinned to it; tests/fixtures/make_migrate_database.py), which left
``migrate_version`` at 179 with a few rows written through 21.09's model. The fix the report gives
(release_22.01's ``manage_db.sh upgrade`` to 180, then upgrade with the current code) is applied with
22.01's own code and proven by reading both version tables back.
"""

from __future__ import annotations

import sqlite3
import sys

import pytest

from runbooks.doctor import diagnose
from runbooks.galaxy.commands import run_dbscript, verdict
from runbooks.tasks.migrate import read_rows

from conftest import PROJECT, postgresql_from_release, run_cli, sqlite_from_release

sys.path.insert(0, str(PROJECT / "tests" / "fixtures"))

REPORT = "https://github.com/galaxyproject/galaxy/issues/13528"
GALAXY_SAID = "IncorrectVersionError: Your galaxy database version is incorrect; version 180 is expected"
DOCTOR_CODE = "sqlalchemy-migrate-wrong-version"
FIXTURE = "21.9.0.migrate"  # galaxy-data-21.9.0.migrate.sqlite.gz


def _migrate_version(db) -> int:
    with sqlite3.connect(db.sqlite_path) as conn:
        return conn.execute("SELECT version FROM migrate_version").fetchone()[0]


def _rows(db, table: str) -> list:
    with sqlite3.connect(db.sqlite_path) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def test_replay_13528(tmp_path, graph):
    db = sqlite_from_release(FIXTURE, tmp_path)
    assert _migrate_version(db) == 179 and read_rows(db) == ()
    # What Galaxy's startup check says today (the report's IncorrectVersionError, renamed since).
    assert verdict(db).startswith("IncorrectSAMigrateVersionError: ")
    item = diagnose(db, graph).get(DOCTOR_CODE)
    assert item is not None and "179" in item.summary
    plan = item.details["plan"]
    assert len(plan) == 3  # the third: SQLite's stop at cde5d2db77e7 (the last test of this file)
    assert "release_22.01" in plan[0] and "sh manage_db.sh upgrade" in plan[0] and "179 to 180" in plan[0]
    assert "upgrade --rehearse" in plan[1] and graph.heads("gxy")[0] in plan[1]
    assert "cde5d2db77e7" in plan[2] and "db_dev.sh upgrade --repair" in plan[2]
    # Upgrading with this code is refused in one line, nothing changed.
    before = db.sqlite_path.read_bytes()
    refused = run_cli("upgrade", "--yes", "--db", db.secret())
    assert refused.returncode == 1 and "179, not 180" in refused.stderr and "Traceback" not in refused.stderr
    assert db.sqlite_path.read_bytes() == before


@pytest.fixture(scope="module")
def release_2201(tmp_path_factory):
    from legacy_galaxy import release_2201_tree

    return release_2201_tree(tmp_path_factory.mktemp("galaxy-22.01") / "galaxy")


@pytest.mark.slow_release
def test_replay_13528_fix_on_postgresql(release_2201, pg_database, graph):
    from legacy_galaxy import manage_db

    db = postgresql_from_release(FIXTURE, pg_database())
    users = _pg_users(db)
    step1 = manage_db(release_2201, db.secret(), "upgrade")  # the report's step 1, with 22.01's own code
    assert step1.returncode == 0, step1.stderr
    assert verdict(db).startswith("SAMigrateError: ")  # at 180: Alembic may take over
    step2 = run_cli("upgrade", "--yes", "--db", db.secret())  # step 2: this code
    assert step2.returncode == 0, step2.stderr
    assert set(read_rows(db)) == set(graph.heads()) and verdict(db) == "OK"
    assert _pg_users(db) == users
    assert not diagnose(db, graph).has_errors


@pytest.mark.slow_release
def test_the_legacy_path_on_sqlite_stops_at_an_unnamed_foreign_key(release_2201, tmp_path, graph):
    """Tables 21.09 created on SQLite have unnamed foreign keys: cde5d2db77e7 cannot drop job_session_id_fkey."""
    from legacy_galaxy import manage_db

    db = sqlite_from_release(FIXTURE, tmp_path)
    users = _rows(db, "galaxy_user")
    assert manage_db(release_2201, db.secret(), "upgrade").returncode == 0 and _migrate_version(db) == 180
    stopped = run_cli("upgrade", "--yes", "--db", db.secret())
    assert stopped.returncode == 1
    assert "cde5d2db77e7" in stopped.stdout and "No such constraint: 'job_session_id_fkey'" in stopped.stdout
    # The way out: Galaxy's repair mode (db_dev.sh upgrade --repair) skips the missing constraint; the
    # next stop is a5c5455b849a (21.09's index on job.params), whose batch copy it leaves behind.
    run_dbscript(db, "upgrade", repair=True)
    assert "cd26484899fb" in read_rows(db)
    stop = diagnose(db, graph).get("upgrade-will-fail")  # the doctor names the next stop
    assert stop is not None and "a5c5455b849a" in stop.summary, stop
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.executescript("DROP TABLE _alembic_tmp_job; DROP INDEX ix_job_params;")
    finished = run_cli("upgrade", "--yes", "--db", db.secret())
    assert finished.returncode == 0, finished.stdout
    assert set(read_rows(db)) == set(graph.heads()) and verdict(db) == "OK"
    assert [row[:4] for row in _rows(db, "galaxy_user")] == [row[:4] for row in users]


def _pg_users(db) -> list:
    from runbooks.database.connections import connect_postgresql

    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT id, email, username FROM galaxy_user ORDER BY id")
            return cursor.fetchall()
    finally:
        conn.close()
