"""Claims the upgrade compatibility page makes about how the matrix is made and what a cell holds, each
against the matrix code (``bench/upgrade_matrix``), the committed results and the data fixtures' manifest."""

from __future__ import annotations

import inspect
import json
import re
from functools import cache

from docs_build.checks.claim_registry import _graph, check
from runbooks.paths import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results" / "upgrade_matrix.json"
MANIFEST = PROJECT_ROOT / "tests" / "fixtures" / "releases" / "data-manifest.json"


@cache
def _cells() -> list[dict]:
    return json.loads(RESULTS.read_text(encoding="utf-8"))["cells"]


@cache
def _manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["releases"]


def _module(name: str):
    import importlib

    import bench.upgrade_matrix  # noqa: F401  (puts tests/fixtures on the path)

    return importlib.import_module(f"bench.upgrade_matrix.{name}")


def _heads() -> list[str]:
    return sorted([*_graph().heads("gxy"), *_graph().heads("tsi")])


@check
def matrix_cell_is_one_run_of_the_upgrade_on_a_release_fixture(dialects=("sqlite", "postgresql")):
    """Each cell: the release's own fixture, loaded, upgraded by ``python -m runbooks upgrade``."""
    upgrade, cell = _module("upgrade"), _module("cell")
    assert '[sys.executable, "-m", "runbooks", *args]' in inspect.getsource(upgrade.run_cli)
    assert 'run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup", "--json")' in inspect.getsource(
        upgrade.upgrade
    )
    assert "fixtures.loaded(release, dialect" in inspect.getsource(cell.run_cell)
    for found in _cells():
        entry = _manifest()[found["release"]][found["dialect"]]
        assert found["fixture"] == entry["file"] and found["release"] in entry["file"], found["fixture"]
    releases = {c["release"] for c in _cells()}
    assert {(r, d) for r in releases for d in dialects} == {(c["release"], c["dialect"]) for c in _cells()}


@check
def matrix_grid_links_each_stop_and_says_then_head():
    from docs_build.generated.upgrade_matrix import _grid_cell

    stopped = [c for c in _cells() if "stops" in c]
    assert stopped
    for found in stopped:
        shown, first = _grid_cell(found), found["stops"][0]
        assert f"(#stop-{first['stopped_at'].split()[-1]})" in shown and first["error"] and first["way_out"]
        assert shown.endswith("then head") == found["reached_head"]
        if found["reached_head"]:
            assert found["alembic_version"] == _heads(), found["release"]  # read back at head


@check
def matrix_cell_holds_time_data_schema_and_way_back():
    for found in _cells():
        assert {"revision_seconds", "data", "schema", "reverse"} <= set(found), found["release"]
        assert {"rows_checked", "rows_lost", "unexplained", "changes"} <= set(found["data"])


TABLE_OF = {  # a word the page uses, and the table that holds such rows
    "users": "galaxy_user",
    "roles": "role",
    "quotas": "quota",
    "histories": "history",
    "datasets": "dataset",
    "collections": "dataset_collection",
    "jobs": "job",
    "workflows": "stored_workflow",
    "pages": "page",
    "visualizations": "visualization",
    "repositories": "tool_shed_repository",
}


@check
def release_fixtures_hold_rows_written_through_the_release_model(rows):
    writer = (PROJECT_ROOT / "tests" / "fixtures" / "make_release_data.py").read_text(encoding="utf-8")
    assert "release_data_writer.py, run inside the release venv" in writer
    for found in _cells():
        held = _manifest()[found["release"]][found["dialect"]]["tables"]
        empty = [word for word in rows if held.get(TABLE_OF[word], {}).get("count", 0) == 0]
        assert not empty, (found["release"], found["dialect"], empty)


@check
def a_stop_is_recorded_then_its_way_out_applied_and_the_upgrade_run_again():
    upgrade = _module("upgrade")
    source = inspect.getsource(upgrade.upgrade_with_way_out)
    assert source.index('run_statements(db, runs[-1]["way_out_statements"])') < source.index("runs.append(upgrade(db))")
    record = inspect.getsource(upgrade.upgrade)
    assert '"error":' in record and '"way_out": diagnosis.get("fix")' in record
    assert '"alembic_version": sorted(outcome.get("alembic_version"' in record  # the tool's read-back


@check
def revision_time_runs_to_the_next_progress_line():
    from bench.upgrade_matrix.upgrade import revision_seconds

    lines = [
        (10.0, "  [   1.0s] Running upgrade a -> 111aaa, one"),
        (10.5, "noise"),
        (12.0, "  [   3.0s] Running upgrade 111aaa -> 222bbb, two"),
        (20.0, "(exit)"),
    ]
    assert revision_seconds(lines) == {"111aaa": 2.0}  # the last revision of a run has no time


@check
def rows_are_compared_value_by_value_after_the_manifest_check():
    data, cell = _module("data"), _module("cell")
    run = inspect.getsource(cell.run_cell)
    assert run.index("check_manifest(") < run.index("upgrade_with_way_out(") < run.index("compare(before")
    source = inspect.getsource(data.compare)
    assert '"rows_checked"' in source and '"values_compared"' in source
    for call in ('calls="drop_table"', 'calls="drop_column"', "data_fix=True"):
        assert call in source, call
    assert 'report["unexplained"].append(item)' in inspect.getsource(data._add)
    assert all(change["by"] for c in _cells() for change in c["data"]["changes"])  # each put down to a revision
    test = (PROJECT_ROOT / "tests" / "test_upgrade_matrix.py").read_text(encoding="utf-8")
    assert "def test_no_committed_cell_lost_data(" in test


@check
def schema_is_compared_with_a_fresh_head_database_as_troubleshoot_drift_judges():
    schema = _module("schema")
    source = inspect.getsource(schema)
    assert "load_baseline(db, graph, env)" in source and "model_drift(db, env)" in source
    assert "routine_differences(schema_routines(db), baseline.routines)" in source
    from runbooks.doctor.checks import schema_drift

    assert schema.classify is schema_drift.classify
    assert schema.FINDING["left"] == "schema-left-by-galaxy"
    assert {e["class"] for c in _cells() for e in c["schema"].get("differences", [])} <= set(schema.FINDING.values())
    for found in _cells():
        for entry in found["schema"].get("differences", []):
            assert entry["explained"] == entry["class"].endswith("left-by-galaxy"), entry


@check
def leftovers_catalogue_is_generated_from_the_results():
    from bench.upgrade_matrix.leftovers import CATALOGUE, build

    assert json.loads(CATALOGUE.read_text(encoding="utf-8")) == build(json.loads(RESULTS.read_text(encoding="utf-8")))


@check
def a_path_is_named_when_the_database_shows_half_its_differences(severity):
    from runbooks.doctor.galaxy_leftovers import catalogue, explain_leftovers
    from runbooks.findings.catalogue import BY_CODE

    paths, leaves = catalogue("sqlite")
    release, count = min(paths.items(), key=lambda item: item[1])  # every other path leaves more
    keys = [dict(zip(("kind", "table", "name", "detail"), k, strict=True)) for k, r in leaves.items() if release in r]
    half = (count + 1) // 2
    assert count >= 2 and len(keys) == count
    assert all(found.left for found in explain_leftovers(keys[:half], "sqlite").values())
    assert not any(found.left for found in explain_leftovers(keys[: half - 1], "sqlite").values())
    assert BY_CODE["schema-missing-left-by-galaxy"].severity == severity


@check
def way_back_downgrades_to_the_tag_and_runs_the_release_code():
    reverse = _module("reverse")
    source = inspect.getsource(reverse.reverse)
    assert 'run_cli("downgrade", tag, "--db"' in source
    assert "verify_databases_via_script(" in reverse.OLD_CODE_CHECK and "script.dbversion(" in reverse.OLD_CODE_CHECK
    assert "create_or_verify_database(" in reverse.MIGRATE_CHECK
    assert 'venv / "bin" / "python"' in inspect.getsource(reverse.old_code_verdict)
    assert all("accepted" in c["reverse"] for c in _cells())


@check
def matrix_fixtures_hold_tens_of_rows(most):
    counts = [
        table["count"]
        for c in _cells()
        for table in _manifest()[c["release"]][c["dialect"]]["tables"].values()
        if table["count"]
    ]
    assert 10 <= max(counts) == most, max(counts)


@check
def matrix_page_is_rendered_from_the_results(path):
    from docs_build.generated import upgrade_matrix

    assert upgrade_matrix.RESULTS == PROJECT_ROOT / path == RESULTS
    section = (PROJECT_ROOT / "docs" / "contributing.md").read_text(encoding="utf-8").split("## The upgrade matrix")[1]
    assert re.search(r"python -m bench\.upgrade_matrix refresh", section.split("\n## ")[0])
