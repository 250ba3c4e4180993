"""PostgreSQL roles set up by a DBA (a statement_timeout of their own, no CREATEDB): one line saying what to change."""

from __future__ import annotations

import uuid

from runbooks.database.backup import make_backup
from runbooks.database.urls import DatabaseUrl
from runbooks.settings import HOME_ENV

from attacks import assert_refused, attack, fingerprint
from conftest import _admin_sql, run_cli


def role(pg_admin: DatabaseUrl, options: str) -> str:
    name = f"rb_role_{uuid.uuid4().hex[:8]}"
    _admin_sql(pg_admin, f'CREATE ROLE "{name}" LOGIN {options}')
    return name


def drop_role(pg_admin: DatabaseUrl, db: DatabaseUrl, name: str) -> None:
    _admin_sql(pg_admin, f'ALTER DATABASE "{db.database_name}" OWNER TO CURRENT_USER')
    _admin_sql(pg_admin, f'DROP ROLE IF EXISTS "{name}"')


@attack("other", "PostgreSQL: the role has its own statement_timeout (1ms)", "exit 2, one line naming it")
def test_a_roles_statement_timeout_is_named(pg_db, pg_admin, tmp_path):
    db = pg_db("26.0")
    name = role(pg_admin, "SUPERUSER")
    _admin_sql(pg_admin, f"ALTER ROLE \"{name}\" SET statement_timeout = '1ms'")
    try:
        as_role = DatabaseUrl(db.url.set(username=name))
        result = run_cli("troubleshoot", "--db", as_role.secret(), env={HOME_ENV: str(tmp_path)})
        assert_refused(result, "statement_timeout", "ALTER ROLE")
    finally:
        drop_role(pg_admin, db, name)


@attack("restore", "PostgreSQL: restore by the database's owner without CREATEDB", "exit 2, one line; unchanged")
def test_restore_without_createdb_is_one_line(pg_db, pg_admin, tmp_path):
    db = pg_db("26.0")
    backup = make_backup(db, tmp_path / "backups").path
    name = role(pg_admin, "NOCREATEDB")
    _admin_sql(pg_admin, f'ALTER DATABASE "{db.database_name}" OWNER TO "{name}"')
    try:
        before = fingerprint(db)
        as_owner = DatabaseUrl(db.url.set(username=name))
        result = run_cli("restore", str(backup), "--yes", "--db", as_owner.secret(), env={HOME_ENV: str(tmp_path)})
        assert_refused(result, "permission denied to create database", "CREATEDB")
        assert fingerprint(db) == before
    finally:
        drop_role(pg_admin, db, name)
