"""Checks behind the from-migrate task page (``docs/tasks/from-migrate.md``): Galaxy's Migrate hand-over
read from the installed package and from release 22.01's own packages, the committed databases older
releases made, the experiment that takes a 21.09 database through both steps, and the runbook's wiring."""

from __future__ import annotations

import inspect
import sys
import tempfile
from pathlib import Path

from docs_build.checks import experiments_production  # noqa: F401  (registers the experiments)
from docs_build.checks.claim_registry import _graph, _source, check
from docs_build.checks.experiments import experiment
from runbooks.paths import PROJECT_ROOT

# -- from before 22.05 ----------------------------------------------------------------------------------


@check
def from_migrate_runbook_is_executed_by_the_build(release="21.09"):
    from docs_build.site_build import execution
    from runbooks.cli.notebook_run import available_tasks
    from runbooks.tasks import from_migrate

    assert "from-migrate" in available_tasks() and "from-migrate" in execution.PG_RUNBOOKS
    assert from_migrate.PRACTICE_DUMP.name == "galaxy-data-21.9.0.migrate.postgresql.sql.gz"
    assert f"Galaxy {release} made it" in inspect.getsource(from_migrate.choose)
    notebook = (PROJECT_ROOT / "notebooks" / "from-migrate.ipynb").read_text(encoding="utf-8")
    calls = ("from_migrate.choose(", "status_text(before", "path_text(", "run_release_step(", "check_sessions(change)")
    calls += ("run_rehearsal(change)", "take_backup(change)", "apply_change(change)", "status_text(after", "verdict(")
    for call in (*calls, "drop_practice(", "finish("):
        assert call in notebook, call
    assert notebook.index("drop_practice(") < notebook.index("finish(")


@check
def from_migrate_changes_nothing_without_confirm():
    """On the user's database: step 1 only with a release_22.01 checkout and confirm, step 2 only after it
    (at 180) and with confirm; tests/test_from_migrate_runbook.py runs it both ways."""
    from runbooks.tasks import from_migrate

    notebook = (PROJECT_ROOT / "notebooks" / "from-migrate.ipynb").read_text(encoding="utf-8")
    assert "run_release_step(selection, before, release, apply=practice or confirm)" in notebook
    assert "if rehearsal.succeeded and (practice or confirm):" in notebook
    assert 'plan_change(selection, \\"head\\", \\"upgrade\\") if first.at_handover else None' in notebook
    step = inspect.getsource(from_migrate.run_release_step)
    assert step.index("if code is None or not apply:") < step.index("make_backup(") < step.index("manage_db(code")
    assert "release_2201_code(release_2201_root, practice)" in notebook
    assert "if not practice:\n        return None" in inspect.getsource(from_migrate.release_2201_code)


@check
def from_migrate_backs_up_before_release_2201_which_does_not():
    """The runbook backs up before 22.01's step; 22.01's own upgrade path (its manage_db.py body and
    sqlalchemy-migrate's upgrade) makes no copy of the database."""
    from runbooks.galaxy import release_2201
    from runbooks.tasks import from_migrate

    step = inspect.getsource(from_migrate.run_release_step)
    assert step.index("make_backup(") < step.index("manage_db(code") < step.index("step.after = get_status(")
    sys.path.insert(0, str(PROJECT_ROOT / "tests" / "fixtures"))
    from legacy_galaxy import LAST_MIGRATE_RELEASE
    from release_pins import pinned_venv

    site = next(pinned_venv(LAST_MIGRATE_RELEASE).glob("lib/python3*/site-packages"))
    migrate = (site / "migrate" / "versioning" / "api.py").read_text() + (
        site / "migrate" / "versioning" / "shell.py"
    ).read_text()
    orm = (site / "galaxy" / "model" / "orm" / "scripts.py").read_text()
    for text in (migrate, orm, release_2201.MANAGE_DB):
        assert "backup" not in text.lower() and "pg_dump" not in text, "a backup step"
    assert sorted(p.name for p in (site / "galaxy" / "model" / "migrate" / "versions").glob("0*.py"))[-1].startswith(
        "0180_"
    )


@check
def above_180_needs_the_development_commit_not_release_2201(last=180, commit="da88ded"):
    from runbooks.tasks import legacy_plan

    steps = legacy_plan.legacy_steps(181, "this code", legacy_plan.Commands("u", "r", "x", "t"), "head", False)
    assert legacy_plan.LAST_MIGRATE_COMMIT == commit and commit in steps[0].code
    assert f"downgrade --version {last}" in steps[0].action


@check
def only_release_2201_reaches_180(last=180):
    """Galaxy hands over at ``last`` only; of the releases with a galaxy-data package, only 22.01 ends there,
    and the current package carries no Migrate scripts; this code's upgrade refuses any other version."""
    import galaxy.model.migrations as migrations
    from galaxy import model

    from runbooks.tasks import change
    from runbooks.tasks.legacy_plan import RELEASE_MIGRATE_VERSIONS

    assert migrations.SQLALCHEMYMIGRATE_LAST_VERSION_GXY == last
    assert [release for release, version in RELEASE_MIGRATE_VERSIONS.items() if version == last] == ["22.01"]
    assert not (Path(model.__file__).parent / "migrate" / "versions").exists()
    assert "legacy_migrate_version != 180" in inspect.getsource(change._refuse_unmovable)


@check
def status_reads_migrate_version_and_prints_the_plan():
    import gzip
    import sqlite3

    fixture = PROJECT_ROOT / "tests" / "fixtures" / "releases" / "galaxy-data-21.9.0.migrate.sqlite.gz"
    with tempfile.NamedTemporaryFile(suffix=".sqlite") as copy:
        copy.write(gzip.decompress(fixture.read_bytes()))
        copy.flush()
        with sqlite3.connect(copy.name) as conn:
            rows = conn.execute("SELECT version FROM migrate_version").fetchall()
    assert len(rows) == 1 and isinstance(rows[0][0], int), rows
    status = experiment("production-from-migrate")["status"]["stdout"]
    assert f"SQLAlchemy Migrate version: {rows[0][0]}" in status
    assert "Plan for a database from before Alembic" in status and "sh manage_db.sh upgrade" in status


@check
def galaxy_startup_names_both_migrate_states(last=180):
    """Galaxy's startup check, read from its code: a Migrate version that is not the last one raises
    IncorrectSAMigrateVersionError; the last one (180 for gxy) goes on to the upgrade, which without
    auto-migrate raises SAMigrateError. (tests/replays/test_13528 runs it on 21.09's database.)"""
    import galaxy.model.migrations as migrations

    verifier = migrations.DatabaseStateVerifier
    handle = inspect.getsource(verifier._handle_nonempty_database)
    assert (
        "if self._is_last_sqlalchemymigrate_version():" in handle
        and "_handle_wrong_sqlalchemymigrate_version()" in handle
    )
    assert "raise IncorrectSAMigrateVersionError(" in inspect.getsource(
        verifier._handle_wrong_sqlalchemymigrate_version
    )
    assert "raise SAMigrateError(" in inspect.getsource(verifier._try_to_upgrade)
    assert migrations.SQLALCHEMYMIGRATE_LAST_VERSION_GXY == last


@check
def sqlite_2109_path_stops_at_an_unnamed_foreign_key():
    """cde5d2db77e7 drops job_session_id_fkey by name; Galaxy's repair mode skips an operation whose object
    is missing; a5c5455b849a drops a column of job (a batch copy on SQLite); the doctor names _alembic_tmp_
    tables; the replay runs the whole path with Galaxy's own code in the suite."""
    from runbooks.doctor.checks import objects_and_orphans

    graph = _graph()
    fkey = graph.revisions["cde5d2db77e7"].path.read_text(encoding="utf-8")
    assert "drop_constraint(job_session_fk, job_table)" in fkey and 'job_table = "job"' in fkey
    util = _source("util.py")
    assert "if not self._is_repair_mode():\n            return self.execute()" in util
    assert "self.log_check_not_passed()\n                return None" in util
    params = graph.revisions["a5c5455b849a"].path.read_text(encoding="utf-8")
    assert 'table_name = "job"' in params and "drop_column(table_name, column_name)" in params
    assert '"_alembic_tmp_"' in inspect.getsource(objects_and_orphans)
    replay = (PROJECT_ROOT / "tests" / "replays" / "test_13528_migrate_below_180.py").read_text(encoding="utf-8")
    for said in ("No such constraint: 'job_session_id_fkey'", "repair=True", "a5c5455b849a", "_alembic_tmp_job"):
        assert said in replay, said
