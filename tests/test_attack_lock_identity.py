"""Attacks: the PostgreSQL migration lock is the database's, whatever URL reaches it.

Two URLs to one database (``127.0.0.1`` and ``localhost``; another role) must take one lock.
The lock is an advisory lock taken on the server's ``postgres`` database, or beside the database
itself when the role cannot reach ``postgres``: advisory locks belong to one database, so a role
without access to ``postgres`` took a second lock and two migrations ran at once. The lock is now
refused when held anywhere on the server (``pg_locks`` is server-wide); another database's name
is another key, and another server has its own locks.
"""

from __future__ import annotations

import uuid

import pytest

from runbooks.database.connections import run_admin_sql
from runbooks.database.migration_lock import migration_lock
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import Refused

from attacks import assert_refused, attack, fingerprint
from conftest import run_cli
from test_attack_concurrency import hold_lock, stop


@pytest.fixture
def role_without_maintenance_db(pg_admin):
    """A role whose connections to the ``postgres`` database fail (as where a DBA closed it to roles)."""
    name = f"runbooks_nomaint_{uuid.uuid4().hex[:8]}"
    run_admin_sql(
        pg_admin,
        f'CREATE ROLE "{name}" LOGIN SUPERUSER; '
        f"ALTER ROLE \"{name}\" IN DATABASE postgres SET session_preload_libraries = 'runbooks_closed_to_roles'",
    )
    yield name
    try:
        run_admin_sql(pg_admin, f'DROP ROLE IF EXISTS "{name}"')
    except Exception:  # noqa: BLE001 - a failed test's leftovers: the run's cleanup drops those
        pass


def other_url(db: DatabaseUrl, user: str | None = None, host: str = "localhost") -> DatabaseUrl:
    return DatabaseUrl(db.url.set(username=user or db.url.username, host=host))


@attack("concurrency", "PostgreSQL: upgrade by another role and host while an upgrade holds the database", "refused")
def test_another_role_and_host_is_refused(pg_db, role_without_maintenance_db):
    db = pg_db("26.0")
    holder = hold_lock(db)  # through 127.0.0.1 as postgres: locks in the postgres database
    try:
        other = other_url(db, role_without_maintenance_db)
        before = fingerprint(db)
        result = run_cli("upgrade", "--db", other.secret(), "--yes")
        assert_refused(result, f"another upgrade (pid {holder.pid}", "nothing was changed", code=1)
        assert fingerprint(db) == before
    finally:
        stop(holder)


@attack("concurrency", "PostgreSQL: one database's lock through three URLs, either holding", "the others refused")
def test_three_urls_one_lock(pg_database, role_without_maintenance_db):
    db = pg_database(create=True)
    beside = other_url(db, role_without_maintenance_db)  # its lock is taken in the database itself
    urls = [db, other_url(db), beside]
    for holding in (db, beside):
        holder = hold_lock(holding)
        try:
            for other in urls:
                if other is not holding:
                    with pytest.raises(Refused, match=f"another upgrade \\(pid {holder.pid}"):
                        with migration_lock(other, "upgrade"):
                            pass
        finally:
            stop(holder)
    with migration_lock(db, "upgrade"):  # another database's name on the server is another lock
        with migration_lock(pg_database(create=True), "upgrade"):
            pass
