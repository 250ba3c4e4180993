"""Galaxy issue 21699: "Database Migration Upgrade Error - column "tool_id" of relation "tool_landing_request"
already exists" — upgrading 25.0 to 25.1.0/25.1.1 stops at c0959ad462b2 for databases created at 24.2/25.0,
whose create_all already made the column; Galaxy 25.1.2 made the revision check for the column first.

Made the way the reporter's came to be: a database made by Galaxy 25.0.4's own initialization (PostgreSQL,
tests/fixtures/releases), then upgraded by Galaxy 25.1.1's own code (a checkout tree on 25.1.1's venv), which
fails as reported. The doctor on that checkout names the revision and the newer code before any drop; the
fix is that code: 25.1.3's upgrade and 26.1.2's (installed) reach 25.1. The same check on 25.0.4's data
database with 25.1.3's code finds nothing to drop (the revision checks first).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from runbooks.tasks.migrate import read_rows

from conftest import PROJECT, _admin_sql, file_lock, postgresql_from_release, run_cli, sqlite_from_release

sys.path.insert(0, str(PROJECT / "tests" / "fixtures"))
from make_checkout_tree import build_tree, ensure_release_venv  # noqa: E402
from release_pins import VENV_CACHES  # noqa: E402

REPORT = "https://github.com/galaxyproject/galaxy/issues/21699"
GALAXY_SAID = 'DuplicateColumn: column "tool_id" of relation "tool_landing_request" already exists (25.0 → 25.1.1)'
DOCTOR_CODE = "objects-already-exist"
AT_25_0 = {"c716ee82337b", "d4a650f47a3c"}
AT_25_1 = {"63dc6cca023f", "d4a650f47a3c"}
pytestmark = pytest.mark.slow_release  # a release venv each (installed once when none is cached)


def release_tree(version: str, folder: Path) -> Path:
    with file_lock(PROJECT / "build" / "locks" / f"release-venv-{version}.lock"):
        venv = ensure_release_venv(version, VENV_CACHES)
    return build_tree(version, folder / f"galaxy-{version}", venv, symlink=True)


def test_replay_21699(tmp_path, pg_database, pg_admin):
    db = postgresql_from_release("25.0.4", pg_database())
    spare = pg_database()
    _admin_sql(pg_admin, f'CREATE DATABASE "{spare.database_name}" TEMPLATE "{db.database_name}"')
    old = release_tree("25.1.1", tmp_path)
    failed = run_cli("upgrade", "25.1", "--galaxy-root", str(old), "--db", db.secret(), "--yes", "--no-backup")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert 'column "tool_id" of relation "tool_landing_request" already exists' in failed.stdout
    assert set(read_rows(db)) == AT_25_0  # PostgreSQL rolled the whole upgrade back
    report = json.loads(run_cli("troubleshoot", "--json", "--galaxy-root", str(old), "--db", db.secret()).stdout)
    (item,) = [f for f in report["findings"] if f["code"] == DOCTOR_CODE]
    assert item["severity"] == "error" and "c0959ad462b2" in item["summary"], item
    assert item["fix"].startswith("a later Galaxy fixed this") and "nothing needs dropping" in item["fix"]
    # The fix: code with the revision that checks first. 25.1.3's own upgrade, and 26.1.2's (installed).
    fixed = release_tree("25.1.3", tmp_path)
    done = run_cli("upgrade", "25.1", "--galaxy-root", str(fixed), "--db", db.secret(), "--yes", "--no-backup")
    assert done.returncode == 0 and set(read_rows(db)) == AT_25_1, done.stdout[-3000:]
    done = run_cli("upgrade", "25.1", "--db", spare.secret(), "--yes", "--no-backup")
    assert done.returncode == 0 and set(read_rows(spare)) == AT_25_1, done.stdout[-3000:]


def test_fixed_revision_is_not_reported_on_25_0_data(tmp_path):
    db = sqlite_from_release("25.0.4.data", tmp_path)
    tree = release_tree("25.1.3", tmp_path)
    report = json.loads(run_cli("troubleshoot", "--json", "--galaxy-root", str(tree), "--db", db.secret()).stdout)
    assert DOCTOR_CODE not in [f["code"] for f in report["findings"]], report["findings"]
    assert "upgrade-will-fail" not in [f["code"] for f in report["findings"]]  # its rehearsal reached 25.1
    assert not any("DROP" in f["fix"] for f in report["findings"])
