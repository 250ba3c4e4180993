"""Galaxy issue 19016: '"history_audit" does not exist on database upgrade' — a PostgreSQL database
upgraded from 20.09 to 24.0 in one go: `manage_db.sh upgrade` said nothing wrong, then Galaxy failed
with `relation "history_audit" does not exist`.

Made the way the reporter's database came to be: Galaxy 20.09's own first start (galaxy-data 20.9.1,
Python 3.8, SQLAlchemy 1.3; SQLAlchemy Migrate version 170; tests/fixtures/make_migrate_database.py),
then a later release's own `manage_db.sh upgrade` (DbScript.upgrade of the installed 26.1.2; the
reporter's was 24.0), which runs Alembic without reading migrate_version. The fix the reporter found
(start again from 20.09, take the Migrate steps first, then upgrade) is applied with Galaxy 22.01's
own code and proven.
"""

from __future__ import annotations

import json
import sys

import pytest

from runbooks.database.connections import connect_postgresql
from runbooks.doctor import diagnose
from runbooks.errors import GalaxyCommandFailed
from runbooks.galaxy.commands import run_dbscript, verdict
from runbooks.tasks.migrate import read_rows

from conftest import PROJECT, postgresql_from_release, run_cli, sqlite_from_release

sys.path.insert(0, str(PROJECT / "tests" / "fixtures"))

REPORT = "https://github.com/galaxyproject/galaxy/issues/19016"
GALAXY_SAID = (
    'psycopg2.errors.UndefinedTable: relation "history_audit" does not exist (after `manage_db.sh upgrade` from 20.09)'
)
DOCTOR_CODE = "sqlalchemy-migrate-skipped"
FIXTURE = "20.9.1.migrate"  # galaxy-data-20.9.1.migrate.{sqlite,postgresql.sql}.gz


def _query(db, sql: str):
    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else None
    finally:
        conn.close()


def _renaming_a_history_fails(db) -> str | None:
    """Galaxy's symptom: any write to history fires the audit trigger; the error line, or None."""
    import psycopg2

    try:
        _query(db, "UPDATE history SET name = name || '' WHERE id = (SELECT min(id) FROM history)")
    except psycopg2.Error as error:
        return str(error).splitlines()[0]
    return None


def test_replay_19016(pg_database, graph):
    db = postgresql_from_release(FIXTURE, pg_database())
    assert _query(db, "SELECT version FROM migrate_version") == [(170,)]
    run_dbscript(db, "upgrade")  # the reporter's one-go `manage_db.sh upgrade`
    assert set(read_rows(db)) == set(graph.heads()) and verdict(db) == "OK"  # Galaxy sees nothing wrong
    assert _query(db, "SELECT to_regclass('history_audit')") == [(None,)]
    assert _renaming_a_history_fails(db) == 'relation "history_audit" does not exist'
    item = diagnose(db, graph).get(DOCTOR_CODE)
    assert item is not None and item.severity == "error"
    assert "170" in item.summary and "history_audit" in item.summary and "171-180" in item.summary
    plan = item.details["plan"]
    assert len(plan) == 3 and "restore" in plan[0] and "release_22.01" in plan[1] and "170 to 180" in plan[1]


def test_the_jump_on_sqlite_stops_and_is_recognized_too(tmp_path, graph):
    """On SQLite the same one-go upgrade stops half-way (20.09's unnamed foreign key on job.session_id)."""
    db = sqlite_from_release(FIXTURE, tmp_path)
    with pytest.raises(GalaxyCommandFailed, match="No such constraint: 'job_session_id_fkey'"):
        run_dbscript(db, "upgrade")
    assert read_rows(db) == ("b964490175fd",)
    report = diagnose(db, graph, rehearse=False)
    assert DOCTOR_CODE in report.codes and "170" in report.get(DOCTOR_CODE).summary
    status = run_cli("status", "--json", "--db", db.secret())
    assert status.returncode == 1, status.stderr  # at a revision, yet not healthy
    assert [line[:2] for line in json.loads(status.stdout)["legacy_plan"]] == ["1.", "2.", "3.", "4."]


@pytest.mark.slow_release
def test_replay_19016_fix_from_the_backup(tmp_path, pg_database, graph):
    from legacy_galaxy import manage_db, release_2201_tree

    db = postgresql_from_release(FIXTURE, pg_database())  # the backup from before the jump
    users = _query(db, "SELECT id, email, username FROM galaxy_user ORDER BY id")
    root = release_2201_tree(tmp_path / "galaxy-22.01")
    step = manage_db(root, db.secret(), "upgrade")  # Galaxy 22.01: SQLAlchemy Migrate 170 -> 180
    assert step.returncode == 0, step.stderr
    assert _query(db, "SELECT version FROM migrate_version") == [(180,)]
    upgraded = run_cli("upgrade", "--yes", "--db", db.secret())  # this code: Alembic to head
    assert upgraded.returncode == 0, upgraded.stderr
    assert set(read_rows(db)) == set(graph.heads()) and verdict(db) == "OK"
    assert _query(db, "SELECT to_regclass('history_audit')::text") == [("history_audit",)]
    assert _renaming_a_history_fails(db) is None
    assert _query(db, "SELECT id, email, username FROM galaxy_user ORDER BY id") == users
    assert not diagnose(db, graph).has_errors
