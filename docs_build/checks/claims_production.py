"""Checks behind the production page (``docs/explanation/production.md``): Galaxy's auto-migrate and
legacy ``manage_db.py`` code read from the installed package, and the experiments of
``docs_build/checks/experiments_production.py`` (the role's view, the playbook, a lock timeout, the
Tool Shed's migrations)."""

from __future__ import annotations

import inspect
import re

from docs_build.checks import experiments_production  # noqa: F401  (registers the experiments)
from docs_build.checks.claim_registry import check
from docs_build.checks.experiments import experiment


@check
def auto_migrate_is_read_from_galaxy_yml():
    from galaxy.model.migrations import scripts

    source = inspect.getsource(scripts.get_configuration_from_file)
    assert 'properties.get("database_auto_migrate", False)' in source


@check
def auto_migrate_upgrades_in_the_startup_check_and_logs_a_placeholder():
    from galaxy.model.migrations import DatabaseStateVerifier

    source = inspect.getsource(DatabaseStateVerifier._try_to_upgrade)
    assert "if not self.is_auto_migrate:" in source and "am.upgrade(self.model)" in source
    # the log line has no f prefix: it prints the braces, not the version
    assert 'log.info("Database is being upgraded to current version: {code_version}")' in source


@check
def legacy_manage_db_reads_the_gxy_branch_only():
    from galaxy.model.migrations.scripts import LegacyManageDb

    assert "GXY in revision.branch_labels" in inspect.getsource(LegacyManageDb.get_gxy_version)
    found = experiment("production-role-view")
    assert found["before"]["version"] != found["before"]["db_version"]
    assert found["after"]["version"] == found["after"]["db_version"]
    assert found["no_tsi"]["version"] == found["no_tsi"]["db_version"]  # the role sees nothing to do
    assert found["no_tsi_startup"].startswith("OutdatedDatabaseError: Your tool shed install database")


def _recap(stdout: str) -> dict:
    line = next(line for line in stdout.splitlines() if line.startswith("localhost "))
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


@check
def playbook_check_mode_reports_then_upgrade_then_nothing():
    runs = experiment("production-playbook")
    assert [runs[name]["rc"] for name in ("check", "real", "again")] == [0, 0, 0]
    assert [_recap(runs[name]["stdout"])["changed"] for name in ("check", "real", "again")] == [1, 1, 0]


@check
def lock_timeout_stops_between_revisions(stopped, committed):
    runs = experiment("production-pg-lock-timeout")
    assert runs["refused"]["rc"] == 1 and "other sessions would block this change" in runs["refused"]["stderr"]
    out = runs["timed_out"]["stdout"]
    assert runs["timed_out"]["rc"] == 1 and "NOT DONE" in out
    assert f"read back: d4a650f47a3c, {stopped}" in out
    assert "LockNotAvailable" in out
    assert runs["again"]["rc"] == 0 and "Done: alembic_version read back" in runs["again"]["stdout"]
    planned = re.findall(r"^  ([0-9a-f]{12}) \(gxy\)", out, re.M)
    assert planned.index(stopped) + 1 == committed  # one Galaxy call per revision: those before it committed


@check
def tool_shed_has_its_own_alembic_history(revisions=None, head=None, migrate_last=None, last_tag=None):
    """Its own revisions (the values the marker carries, where the sentence states them), and a Tool Shed
    database refused by this tool: status says unknown-revision, upgrade refuses and changes nothing."""
    found = experiment("production-tool-shed")
    assert revisions in (None, len(found["revisions"])) and head in (None, found["head"])
    assert migrate_last in (None, found["migrate_last"]) and not found["branch_labels"]
    tags = sorted(float(tag) for tag in found["tags"] if not tag.startswith("release_"))
    assert last_tag is None or str(tags[-1]) == str(last_tag), tags
    assert found["status"]["rc"] == 1 and "State:       unknown-revision" in found["status"]["stdout"]
    assert found["upgrade"]["rc"] == 1 and "unknown to this code" in found["upgrade"]["stderr"]
    assert found["rows_after"] == [found["head"]]  # nothing changed


@check
def migration_lock_is_a_session_advisory_lock():
    from runbooks.database import advisory_lock, migration_lock

    assert "advisory_lock" in inspect.getsource(migration_lock)  # PostgreSQL's lock is the advisory one
    assert "pg_try_advisory_lock(" in inspect.getsource(advisory_lock)  # session level (no _xact_)


@check
def from_migrate_in_two_steps(after=None, before=None):
    steps = experiment("production-from-migrate")
    assert before is None or f"{before}" in steps["status"]["stdout"]
    assert steps["refused"]["rc"] == 1
    assert steps["release_2201"]["rc"] == 0 and f"{after or 180}" in steps["handed_over"]["stdout"]
    assert steps["upgrade"]["rc"] == 0 and "Done: alembic_version read back" in steps["upgrade"]["stdout"]
    assert steps["startup"] == "OK"
