"""Attack: Galaxy's trigger functions owned by another role than the one that migrates (PostgreSQL).

Galaxy installs its history-audit trigger functions (``fn_audit_history_by_id``,
``fn_audit_history_by_history_id``: ``galaxy.model.triggers.update_audit_table``) when it creates a
database, and revisions replace them (``a91ea1d97111``, ``c716ee82337b``, and from 26.0
``b8d5e2f9a1c7``: ``CREATE OR REPLACE FUNCTION``). Here the migrating role owns every table and may
create in ``public``, while a second role owns those functions: Galaxy's own upgrade fails at b8d5e2f9a1c7
with "must be owner of function". The pre-flight names the functions, their owner and the revision,
before anything is written.
"""

from __future__ import annotations

import uuid

import pytest

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.preflight import preflight
from runbooks.testing.scratch_states import execute_sql

from attacks import assert_no_crash, attack, fingerprint
from conftest import _admin_sql, run_cli

FUNCTIONS = ["fn_audit_history_by_history_id", "fn_audit_history_by_id"]
AT_26_0 = {"9930b68c85af", "d4a650f47a3c"}
TABLES_TO = """
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') LOOP
    EXECUTE format('ALTER %s %I OWNER TO %I',
                   CASE r.relkind WHEN 'r' THEN 'TABLE' ELSE 'VIEW' END, r.relname, '{role}');
  END LOOP;
END $$
"""


@pytest.fixture
def split_owners(pg_db, pg_admin, graph):
    """A 26.0 database whose tables a login role owns, and whose trigger functions a second role owns."""
    db = pg_db("26.0")
    tag = uuid.uuid4().hex[:8]
    migrator, keeper = f"rb_migrator_{tag}", f"rb_fn_owner_{tag}"
    _admin_sql(pg_admin, f"CREATE ROLE {migrator} LOGIN; CREATE ROLE {keeper} NOLOGIN")
    statements = [TABLES_TO.format(role=migrator), f"GRANT CREATE ON SCHEMA public TO {migrator}"]
    statements += [f"ALTER FUNCTION {name}() OWNER TO {keeper}" for name in FUNCTIONS]
    execute_sql(db, statements)
    pending = graph.in_order(among=set(graph.revisions) - graph.ancestors(read_rows(db)))
    yield db, DatabaseUrl(db.url.set(username=migrator)), migrator, keeper, pending
    execute_sql(db, [f"REASSIGN OWNED BY {migrator}, {keeper} TO CURRENT_USER", f"DROP OWNED BY {migrator}, {keeper}"])
    _admin_sql(pg_admin, f"DROP ROLE IF EXISTS {migrator}; DROP ROLE IF EXISTS {keeper}")


def function_owners(db: DatabaseUrl) -> dict[str, str]:
    with read_only_cursor(db) as cursor:
        cursor.execute("SELECT proname, pg_get_userbyid(proowner) FROM pg_proc WHERE proname = ANY(%s)", (FUNCTIONS,))
        return dict(cursor.fetchall())


@attack("other", "PostgreSQL: Galaxy's trigger functions owned by another role", "pre-flight names them, unchanged")
def test_trigger_functions_of_another_role_are_named_before_any_write(split_owners, graph):
    db, as_role, migrator, keeper, pending = split_owners
    assert function_owners(db) == {name: keeper for name in FUNCTIONS}  # Galaxy installed them; another role owns them
    check = preflight(as_role, graph, pending)
    gaps = [item for item in check.findings if item.code == "role-lacks-privilege"]
    assert len(gaps) == 1 and gaps[0].details["tables"] == [], check.text()
    assert sorted(name for _, name, _, _ in gaps[0].details["routines"]) == FUNCTIONS
    assert "b8d5e2f9a1c7" in gaps[0].summary and f"owner {keeper}" in gaps[0].summary
    assert f"GRANT {keeper} TO {migrator}" in gaps[0].fix
    assert f"ALTER FUNCTION {FUNCTIONS[0]}() OWNER TO {migrator}" in gaps[0].fix

    before = fingerprint(db)
    refused = run_cli("upgrade", "--db", as_role.secret(), "--yes", "--no-backup")
    assert_no_crash(refused)
    assert refused.returncode == 1 and "role-lacks-privilege" in refused.stdout, refused.stdout + refused.stderr
    assert FUNCTIONS[0] in refused.stdout and "nothing was changed" in refused.stderr
    assert fingerprint(db) == before

    # the gap is real: Galaxy's own upgrade, forced past the pre-flight, fails at that revision
    forced = run_cli("upgrade", "--db", as_role.secret(), "--yes", "--no-backup", "--ignore-preflight")
    assert forced.returncode == 1 and "must be owner of function" in forced.stdout, forced.stdout[-3000:]
    assert set(read_rows(db)) == AT_26_0  # Galaxy runs the upgrade in one transaction: rolled back
