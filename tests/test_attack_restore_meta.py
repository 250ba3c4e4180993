"""Attack: a PostgreSQL restore must put back what a database is besides its rows.

Galaxy's database owned by its own role, ``REVOKE CONNECT … FROM PUBLIC``, a connection limit,
a comment, ``ALTER DATABASE … SET`` and ``ALTER ROLE … IN DATABASE … SET``; a superuser backs it
up and restores it (``pg_restore --no-owner`` into a new database). Afterwards the database's
owner, privileges, limit, comment and settings, and the owner of every table, are as they were,
Galaxy's role can read its tables, and the database it replaced is kept under a printed name.
"""

from __future__ import annotations

import uuid

import pytest

from runbooks.database.backup import make_backup
from runbooks.database.connections import connect_postgresql, run_admin_sql
from runbooks.database.database_meta import read_meta
from runbooks.database.restore import restore
from runbooks.tasks.migrate import read_rows

from attacks import attack, fingerprint


@pytest.fixture
def galaxy_role(pg_admin):
    """A role of its own (cluster-wide): requested before ``pg_db`` so it is dropped after the databases."""
    name = f"runbooks_role_{uuid.uuid4().hex[:8]}"
    run_admin_sql(pg_admin, f'CREATE ROLE "{name}" LOGIN')
    yield name
    try:
        run_admin_sql(pg_admin, f'DROP ROLE IF EXISTS "{name}"')
    except Exception:  # noqa: BLE001 - still owns something a failed test left: the run's cleanup drops that
        pass


def owned_by(db, role: str) -> None:
    """The database as a site runs it: owned by Galaxy's role, closed to everyone else, with settings."""
    name = db.database_name
    conn = connect_postgresql(db)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE public."{table}" OWNER TO "{role}"')
    conn.close()
    for statement in (
        f'ALTER DATABASE "{name}" OWNER TO "{role}"',
        f'REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC',
        f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"',
        f'ALTER DATABASE "{name}" CONNECTION LIMIT 17',
        f"COMMENT ON DATABASE \"{name}\" IS 'Galaxy production'",
        f"ALTER DATABASE \"{name}\" SET work_mem = '7MB'",
        f'ALTER ROLE "{role}" IN DATABASE "{name}" SET default_statistics_target = 321',
    ):
        run_admin_sql(db, statement)


def role_reads(db, role: str) -> bool:
    conn = connect_postgresql(db.with_database(db.database_name), user=role)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM galaxy_user")
            return cursor.fetchone()[0] >= 0
    finally:
        conn.close()


@attack("restore", "PostgreSQL: owner, REVOKE CONNECT, limit, comment, settings, table owners", "all put back")
def test_restore_puts_back_what_is_not_rows(galaxy_role, pg_db, tmp_path):
    db = pg_db("26.0")
    owned_by(db, galaxy_role)
    before, rows, content = read_meta(db), read_rows(db), fingerprint(db)
    assert before.acl and before.settings and before.comment  # the attack is set up
    backup = make_backup(db, tmp_path / "backups").path
    restored = restore(backup, db)
    after = read_meta(db)
    assert (after.owner, after.connection_limit, after.comment) == (before.owner, 17, "Galaxy production")
    assert sorted(after.acl) == sorted(before.acl)
    assert sorted(after.settings, key=str) == sorted(before.settings, key=str)
    assert after.owners == before.owners
    assert (read_rows(db), fingerprint(db)) == (rows, content)
    assert role_reads(db, galaxy_role)
    assert "not put back" not in restored.text()
    kept = db.with_database(restored.kept)  # what it replaced, kept and named
    assert restored.kept in restored.text() and fingerprint(kept) == content
