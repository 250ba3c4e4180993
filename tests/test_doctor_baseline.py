"""A baseline that knows Galaxy: differences Galaxy's own migrations leave are information (naming
the path), a missing object the code needs is an error, an altered type an error naming the revision,
views and triggers compared too (issue 12, item 1); and `status` with two heads (issue 12)."""

from __future__ import annotations

import pytest

from runbooks.code.revisions import RevisionGraph
from runbooks.database.routines import schema_routines
from runbooks.doctor import diagnose
from runbooks.tasks.baseline import load_baseline, release_fixtures
from runbooks.tasks.migrate import apply, make_plan, read_rows
from runbooks.tasks.status import get_status, next_step
from runbooks.testing.scratch_states import checkout_with_two_heads, execute_sql

from conftest import postgresql_from_release, sqlite_from_release

UNEXPLAINED = ("schema-missing-object", "schema-differs-from-revision", "schema-drift")


def _upgraded(db, graph):
    """Galaxy's own upgrade to head, with the proven way out where Galaxy stops (ix_job_params on SQLite)."""
    for _ in range(2):
        outcome = apply(db, make_plan(graph, read_rows(db), "head", "upgrade"))
        if outcome.reached:
            return db
        execute_sql(db, ["DROP INDEX IF EXISTS ix_job_params", "DROP TABLE IF EXISTS _alembic_tmp_job"])
    raise AssertionError(outcome.errors)


@pytest.mark.parametrize("release", ["25.0.4", "25.1.3", "26.0.2"])
def test_sqlite_release_upgraded_by_galaxy_has_no_unexplained_difference(tmp_path, graph, release):
    db = _upgraded(sqlite_from_release(release, tmp_path), graph)
    report = diagnose(db, graph, drift=True, rehearse=False)
    assert not [c for c in report.codes if c in UNEXPLAINED], report.text(verbose=True)
    assert not report.has_errors, report.text()
    if release == "25.0.4":  # 33 differences from the head model, every one named with its path
        left = report.get("schema-left-by-galaxy")
        assert left.severity == "info" and "created by galaxy-data 25.0.4" in left.summary, left.summary


@pytest.mark.parametrize("release", ["25.0.4", "26.0.2"])
def test_postgresql_release_upgraded_by_galaxy_has_no_unexplained_difference(pg_database, graph, release):
    db = _upgraded(postgresql_from_release(release, pg_database()), graph)
    report = diagnose(db, graph, drift=True, rehearse=False)
    assert not [c for c in report.codes if c in UNEXPLAINED], report.text(verbose=True)
    assert not report.has_errors, report.text()


def test_dropped_model_column_is_an_error(sqlite_db, graph, tmp_path):
    db = sqlite_db("head")
    execute_sql(db, ["DROP INDEX IF EXISTS ix_history_archived", "ALTER TABLE history DROP COLUMN archived"])
    report = diagnose(db, graph, drift=True, rehearse=False)
    item = report.get("schema-missing-object")
    assert item is not None and item.severity == "error", report.text()
    assert "history.archived" in item.summary and report.has_errors


def test_altered_type_names_the_revision_that_made_it(pg_db, graph):
    db = pg_db("head")
    execute_sql(db, ["ALTER TABLE tool_landing_request ALTER COLUMN tool_version TYPE TEXT"])
    report = diagnose(db, graph, drift=True, rehearse=False)
    item = report.get("schema-differs-from-revision")
    assert item is not None and item.severity == "error", report.text()
    assert "tool_landing_request.tool_version" in item.summary and "c0959ad462b2" in item.summary, item.summary


def test_lost_trigger_is_missing_and_a_stale_view_is_extra(sqlite_db, graph):
    db = sqlite_db("head")
    assert "trigger_history_aur" in schema_routines(db)["trigger"]
    execute_sql(
        db,
        [
            "DROP TRIGGER trigger_history_aur",
            "CREATE VIEW collection_job_state_summary_view AS SELECT 1 AS hdca_id, 0 AS new",
        ],
    )
    report = diagnose(db, graph, drift=True, rehearse=False)
    assert "trigger_history_aur" in report.get("schema-missing-object").summary
    assert "collection_job_state_summary_view" in report.get("schema-drift").summary


def test_baseline_is_cached_per_code_and_dialect(sqlite_db, graph, env):
    from runbooks.tasks.baseline import cache_file

    db = sqlite_db("head")
    first = load_baseline(db, graph, env)
    assert cache_file(graph, "sqlite").is_file()
    assert load_baseline(db, graph, env).paths == first.paths
    assert {release for release, _ in release_fixtures("sqlite")} <= {p.split()[3].rstrip(",") for p in first.paths}


def test_status_with_two_heads_names_the_problem(tmp_path, sqlite_db):
    from runbooks.code.environment import GalaxyEnv

    env = checkout_with_two_heads(tmp_path / "galaxy", RevisionGraph.load(GalaxyEnv.from_package()))
    graph = RevisionGraph.load(env)
    step = next_step(get_status(sqlite_db("26.0"), graph, env))
    assert "heads" in step and "merge" in step and "f00dfeed0001" in step
    assert "Upgrade:" not in step
