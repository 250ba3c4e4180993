"""Attack: a schema before ``public`` in the database's ``search_path`` (PostgreSQL).

``ALTER DATABASE … SET search_path = zz, public`` with a user's own ``zz.job``: a migration's
unqualified names would go to ``zz`` (new tables there, the ALTERs on the user's ``zz.job``) while
Galaxy's version table in ``public`` reads as migrated. The pre-flight refuses it, the rehearsal
runs with the database's own settings (a TEMPLATE copy does not carry them) and its read-back
checks that the schema changed is the schema Galaxy reads; nothing of ``zz`` or ``public`` is lost.
"""

from __future__ import annotations

import pytest

from runbooks.database.connections import connect_postgresql, run_admin_sql
from runbooks.database.scratch import scratch_database
from runbooks.tasks.migrate import read_rows

from attacks import ROWS_DIGEST, assert_no_crash, attack, fingerprint
from conftest import run_cli

SHADOW = """
CREATE SCHEMA zz;
CREATE TABLE zz.job (id integer PRIMARY KEY, params text, note text);
INSERT INTO zz.job SELECT i, 'p' || i, 'mine' FROM generate_series(1, 50) i;
"""


def shadowed(pg_db):
    db = pg_db("26.0")
    conn = connect_postgresql(db)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(SHADOW)
    conn.close()
    run_admin_sql(db, f'ALTER DATABASE "{db.database_name}" SET search_path = zz, public')
    return db


def zz_state(db) -> tuple:
    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'zz'")
            columns = sorted(cursor.fetchall())
            cursor.execute(ROWS_DIGEST.format(table="job").replace('"job"', "zz.job"))
            return columns, cursor.fetchone()[0]
    finally:
        conn.close()


def _public(db):
    from runbooks.database.urls import DatabaseUrl

    return fingerprint(DatabaseUrl(db.url.update_query_dict({"options": "-csearch_path=public"})))


@attack("other", "PostgreSQL: a schema before public in search_path (upgrade)", "pre-flight refuses, exit 1, all kept")
def test_upgrade_refuses_a_schema_before_public(pg_db):
    db = shadowed(pg_db)
    before = (zz_state(db), _public(db), read_rows(db))
    result = run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup")
    assert_no_crash(result)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    assert "search-path-shadows" in result.stdout and "schema zz" in result.stdout, result.stdout
    assert (zz_state(db), _public(db), read_rows(db)) == before


@attack("other", "PostgreSQL: a schema before public in search_path (--rehearse)", "the rehearsal fails, names zz")
def test_rehearsal_carries_the_databases_settings(pg_db):
    db = shadowed(pg_db)
    before = (zz_state(db), _public(db))
    result = run_cli("upgrade", "--db", db.secret(), "--rehearse")
    assert_no_crash(result)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    assert "Rehearsal FAILED" in result.stdout and "schema zz" in result.stdout, result.stdout[-3000:]
    assert (zz_state(db), _public(db)) == before


@pytest.mark.attack
def test_a_copy_has_the_databases_settings(pg_db):
    db = shadowed(pg_db)
    with scratch_database(copy_of=db) as scratch:
        conn = connect_postgresql(scratch.db)
        with conn.cursor() as cursor:
            cursor.execute("SHOW search_path")
            assert cursor.fetchone()[0] == "zz, public"
        conn.close()
