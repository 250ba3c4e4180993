"""Creating a revision (workspace and checkout), linting it, proving it both ways, the model drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph, read_revision
from runbooks.code.workspace import MARKER, ensure_workspace
from runbooks.database.urls import DatabaseUrl
from runbooks.galaxy.commands import run_dbscript
from runbooks.lint.command import lint_paths
from runbooks.tasks.create import add_column_body, create_revision, fill_in, lint_revisions, remove_revision
from runbooks.tasks.revision_proof import prove_revision

from conftest import run_cli
from test_bad_input import assert_one_clear_line


def package_versions(env: GalaxyEnv) -> list[str]:
    return sorted(p.name for p in env.versions_dir("gxy").glob("*.py"))


def new_file(result) -> str:
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("Created "))
    return line.removeprefix("Created ").strip()


def test_create_in_a_workspace(tmp_path, env, graph):
    before = package_versions(env)
    workspace = tmp_path / "ws"
    result = run_cli("create", "-m", "Add run_count to stored_workflow", "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr
    path = new_file(result)
    assert path.startswith(str(workspace / "alembic" / "versions_gxy"))
    assert path.endswith("_add_run_count_to_stored_workflow.py")
    assert "Next steps:" in result.stdout and "lib/galaxy/model/__init__.py" in result.stdout
    revision = read_revision(Path(path), "gxy")
    assert revision.parents == tuple(graph.heads("gxy"))  # on top of the current gxy head
    ws_graph = RevisionGraph.load(GalaxyEnv(workspace))
    assert ws_graph.heads("gxy") == [revision.id]  # one head afterwards
    text = open(path).read()
    assert "with transaction():" in text and "from galaxy.model.migrations.util import transaction" in text
    assert f"Revision ID: {revision.id}" in text and "from alembic import op" not in text
    assert lint_paths([path], ws_graph) == {Path(path): []}  # lint-clean
    assert package_versions(env) == before  # the installed package is never modified
    # Alembic (Galaxy's own `version` command, run against the workspace) sees one gxy head.
    heads = run_dbscript(DatabaseUrl.parse(f"sqlite:///{tmp_path / 'x.sqlite'}"), "version", env=GalaxyEnv(workspace))
    head_lines = [ln for ln in heads.stdout.splitlines() if "(head)" in ln]
    assert len(head_lines) == 2 and any(revision.id in ln and "gxy" in ln for ln in head_lines)
    # the lint CLI finds the workspace graph by itself
    lint = run_cli("lint", path, "--json")
    assert lint.returncode == 0, lint.stderr
    assert json.loads(lint.stdout)["summary"]["errors"] == 0


@pytest.fixture
def checkout(tmp_path, env):
    """A Galaxy checkout layout: lib/galaxy/model from the installed package, config/galaxy.yml."""
    root = tmp_path / "galaxy"
    shutil.copytree(
        env.migrations_dir.parent, root / "lib" / "galaxy" / "model", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "config").mkdir()
    (root / "config" / "galaxy.yml").write_text(
        f"galaxy:\n  database_connection: sqlite:///{root}/database/universe.sqlite\n"
    )
    return root


def test_create_in_a_checkout(checkout, env, graph, tmp_path):
    before = package_versions(env)
    result = run_cli("create", "-m", "Add a column", "--galaxy-root", str(checkout))
    assert result.returncode == 0, result.stderr
    path = new_file(result)
    versions = checkout / "lib" / "galaxy" / "model" / "migrations" / "alembic" / "versions_gxy"
    assert path.startswith(str(versions)) and path.endswith("_add_a_column.py")
    assert not (checkout / MARKER).exists() and package_versions(env) == before
    checkout_env = GalaxyEnv.from_checkout(checkout)
    revision = read_revision(Path(path), "gxy")
    assert revision.parents == tuple(graph.heads("gxy"))
    assert RevisionGraph.load(checkout_env).heads("gxy") == [revision.id]
    heads = run_dbscript(DatabaseUrl.parse(f"sqlite:///{tmp_path / 'x.sqlite'}"), "version", env=checkout_env)
    assert sum("(head)" in ln for ln in heads.stdout.splitlines()) == 2 and revision.id in heads.stdout
    assert run_cli("lint", path, "--galaxy-root", str(checkout)).returncode == 0


def test_lint_flags_a_revision_that_is_not_on_the_head(tmp_path):
    env = ensure_workspace(tmp_path / "ws")
    created = create_revision("Add x", env)
    text = created.text().replace(f"down_revision = '{created.down_revision}'", "down_revision = 'c716ee82337b'")
    created.path.write_text(text)
    run = lint_revisions([created.path])
    assert run.exit_code == 1
    assert [f.rule for f in run.results[created.path]] == ["not-current-head"]


@pytest.fixture
def filled(tmp_path):
    env = ensure_workspace(tmp_path / "ws")
    created = create_revision("Add run_count to stored_workflow", env)
    fill_in(created, add_column_body("stored_workflow", "run_count"))
    return created


def assert_round_trip(trip, created):
    assert trip.ok, trip.text()
    assert [s.action for s in trip.steps] == ["upgrade", "downgrade", "upgrade"]
    assert created.revision in trip.steps[0].rows and created.down_revision in trip.steps[1].rows
    assert created.revision in trip.steps[2].rows
    by_table = trip.drift.by_table()
    assert list(by_table) == ["stored_workflow"], trip.drift.text()
    assert {(d.kind, d.name) for d in by_table["stored_workflow"]} == {
        ("remove_column", "run_count"),
        ("remove_index", "ix_stored_workflow_run_count"),
    }
    assert "lib/galaxy/model/__init__.py" in trip.drift.text()


def test_prove_both_ways_on_sqlite(filled):
    proof = prove_revision(filled, filled.env, postgresql=False)
    assert proof.ok and [t.dialect for t in proof.trips] == ["sqlite"]
    assert_round_trip(proof.trips[0], filled)
    assert lint_paths([filled.path], RevisionGraph.load(filled.env))[filled.path] == []
    remove_revision(filled)
    assert RevisionGraph.load(filled.env).heads("gxy") == [filled.down_revision]


def test_prove_both_ways_on_postgresql(filled, pg_admin):
    proof = prove_revision(filled, filled.env, server=pg_admin, sqlite=False)
    trip = proof.trips[0]
    assert trip.dialect == "postgresql"
    assert_round_trip(trip, filled)
    assert "ALTER TABLE stored_workflow ADD COLUMN run_count INTEGER" in trip.statements
    assert "require-concurrent-index-creation" in {f.rule for f in trip.squawk}
    name = DatabaseUrl.parse(trip.database).database_name
    from runbooks.database.connections import inspect_database

    assert not inspect_database(pg_admin.with_database(name)).exists  # the scratch database is gone


def test_lint_rehearses_on_postgresql_for_squawk(filled, pg_admin):
    run = lint_revisions([filled.path], pg=pg_admin.secret())
    assert filled.path in run.rehearsed
    assert "require-concurrent-index-creation" in {f.rule for f in run.results[filled.path]}
    assert run.exit_code == 0  # squawk's findings are warnings


def test_bad_input(tmp_path):
    assert_one_clear_line(run_cli("create", "-m", "  "), "message is empty")
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    assert_one_clear_line(run_cli("create", "-m", "x", "--workspace", str(afile)), "is a file")
    assert_one_clear_line(run_cli("create", "-m", "x", "--galaxy-root", str(tmp_path)), "is not a Galaxy checkout")
    assert_one_clear_line(run_cli("create"), "required")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "other.txt").write_text("x")
    assert_one_clear_line(run_cli("create", "-m", "x", "--workspace", str(tmp_path / "full")), "not a workspace")
    assert_one_clear_line(run_cli("lint", str(tmp_path / "missing.py")), "no such file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "notes.txt"]


def test_workspace_from_another_galaxy_version_is_refused(tmp_path):
    env = ensure_workspace(tmp_path / "ws")
    (env.migrations_dir / MARKER).write_text(json.dumps({"galaxy_data": "25.0.4"}))
    assert_one_clear_line(run_cli("create", "-m", "x", "--workspace", str(tmp_path / "ws")), "25.0.4")
