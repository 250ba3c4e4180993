"""The pre-flight on a real PostgreSQL server: what the migrating role lacks is found before anything is written.

A role without CREATE on the schema and not owning ``job`` (which 566b691307a5 alters) is refused with
both gaps named; going ahead anyway (--ignore-preflight) fails in Galaxy's own upgrade as predicted and
leaves the database where it was. The disk check runs on a real folder's free space and the real
database size; only the margin kept beside the backup is chosen, so that it cannot fit.
"""

from __future__ import annotations

import shutil
import uuid

import pytest

from runbooks.database.server_facts import database_size
from runbooks.database.urls import DatabaseUrl
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.preflight import preflight
from runbooks.testing.scratch_states import execute_sql

from conftest import _admin_sql, run_cli

AT_26_0 = {"9930b68c85af", "d4a650f47a3c"}


@pytest.fixture
def at_26_0(pg_db, graph):
    db = pg_db("26.0")
    pending = sorted(set(graph.revisions) - graph.ancestors(read_rows(db)))
    return db, graph.in_order(among=set(pending))


@pytest.fixture
def migrator(pg_admin):
    """A login role that reads Galaxy's tables, owns none and may not create in ``public`` (PostgreSQL 15's default)."""
    made = []

    def make(db):
        name = f"doctor_migrator_{uuid.uuid4().hex[:8]}"
        _admin_sql(pg_admin, f"CREATE ROLE {name} LOGIN")
        made.append((name, db))
        execute_sql(db, [f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}"])  # it may read, not alter
        return name, DatabaseUrl(db.url.set(username=name))

    yield make
    for name, db in made:
        execute_sql(db, [f"DROP OWNED BY {name}"])
        _admin_sql(pg_admin, f"DROP ROLE IF EXISTS {name}")


def test_role_without_create_and_ownership_is_refused_before_any_write(at_26_0, migrator, graph):
    db, pending = at_26_0
    role, as_role = migrator(db)
    check = preflight(as_role, graph, pending)
    gaps = {item.details["privilege"]: item for item in check.findings if item.code == "role-lacks-privilege"}
    assert set(gaps) == {"CREATE", "OWNER"}, check.text()
    assert "job" in gaps["OWNER"].details["tables"] and "566b691307a5" in gaps["OWNER"].summary
    assert f"GRANT CREATE ON SCHEMA public TO {role}" in gaps["CREATE"].fix and "postgres" in gaps["OWNER"].fix
    refused = run_cli("upgrade", "--db", as_role.secret(), "--yes", "--no-backup")
    assert refused.returncode == 1 and "role-lacks-privilege" in refused.stdout, refused.stdout + refused.stderr
    assert "nothing was changed" in refused.stderr and set(read_rows(db)) == AT_26_0
    # the gaps are real: Galaxy's own upgrade, forced, fails on them and leaves the database as it was
    forced = run_cli("upgrade", "--db", as_role.secret(), "--yes", "--no-backup", "--ignore-preflight")
    assert forced.returncode == 1 and ("must be owner" in forced.stdout or "permission denied" in forced.stdout)
    assert set(read_rows(db)) == AT_26_0


def test_a_role_that_may_not_read_is_one_clear_line(at_26_0, migrator):
    db, _ = at_26_0
    role, as_role = migrator(db)
    execute_sql(db, [f"REVOKE SELECT ON alembic_version FROM {role}"])
    result = run_cli("status", "--db", as_role.secret())
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.startswith(f"error: role {role} may not read Galaxy's tables")
        and "permission denied" in result.stderr
    )


def test_create_granted_leaves_only_ownership(at_26_0, migrator, graph):
    db, pending = at_26_0
    role, as_role = migrator(db)
    execute_sql(db, [f"GRANT CREATE ON SCHEMA public TO {role}"])
    check = preflight(as_role, graph, pending)
    assert [item.details["privilege"] for item in check.findings] == ["OWNER"], check.text()
    assert preflight(db, graph, pending).findings == []  # the owner (a superuser here) lacks nothing


def test_backup_room_uses_the_folders_real_free_space(at_26_0, graph, tmp_path):
    db, pending = at_26_0
    size, free = database_size(db), shutil.disk_usage(tmp_path).free
    assert size > 0
    roomy = preflight(db, graph, pending, backup_folder=tmp_path / "backups", margin_bytes=0)
    assert roomy.findings == [] and roomy.disk["database_bytes"] == size and roomy.disk["folder"] == str(tmp_path)
    cramped = preflight(db, graph, pending, backup_folder=tmp_path, margin_bytes=free - size + 1024**3)
    (gap,) = cramped.findings
    assert gap.code == "backup-disk-too-small" and gap.details["free_bytes"] < gap.details["needed_bytes"]
    assert "--no-backup" in gap.fix
