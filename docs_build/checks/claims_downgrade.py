"""Claims about the downgrade task: its plan (made by the tool's own planner from Galaxy's revision
graph), the command Galaxy runs, and what the test suite checks against older releases."""

from __future__ import annotations

import ast
import inspect

from docs_build.checks.claim_registry import _graph, check
from runbooks.paths import PROJECT_ROOT


def _head_rows() -> tuple[str, ...]:
    graph = _graph()
    return tuple(sorted([*graph.heads("gxy"), *graph.heads("tsi")]))


def _plan(tag: str):
    from runbooks.tasks.migrate import make_plan

    return make_plan(_graph(), _head_rows(), tag, "downgrade")


@check
def manage_db_downgrade_is_alembics():
    from galaxy.model.migrations.dbscript import DbScript

    assert "command.downgrade(self.alembic_config, revision, args.sql)" in inspect.getsource(DbScript.downgrade)


@check
def downgrade_plan_undoes_side_branches(tag="25.0", side="fb16d09348db"):
    """Galaxy's downgrade to the tag, then one ``REV@-1`` per side-branch revision, said in the plan;
    the rows expected afterwards: one per branch."""
    from runbooks.cli.render import plan_text

    graph = _graph()
    plan = _plan(str(tag))
    calls = [(call.command, call.revision) for call in plan.calls]
    assert calls == [("downgrade", graph.release_tags[str(tag)]), ("downgrade", f"{side}@-1")], calls
    said = plan_text(plan, graph, "sqlite")
    assert f"manage_db.sh downgrade {side}@-1" in said and "left by the merge crossing" in said
    assert sorted(graph.branch_of(row) for row in plan.expected) == ["gxy", "tsi"]


@check
def old_releases_accept_our_downgrade(releases):
    """tests/test_downgrade_releases.py runs each release's startup check and ``dbversion`` on the
    database downgraded to its tag, SQLite and PostgreSQL."""
    tree = ast.parse((PROJECT_ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    old = next(n.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "OLD_RELEASES")
    assert sorted(ast.literal_eval(old)) == sorted(releases)
    test = (PROJECT_ROOT / "tests" / "test_downgrade_releases.py").read_text(encoding="utf-8")
    assert "verify_databases_via_script" in test and "script.dbversion(" in test
    for dialect in ("sqlite", "postgresql"):
        assert f"def test_{dialect}_downgrade_is_accepted_by_that_release(release" in test


@check
def downgrade_is_the_upgrade_sequence():
    from runbooks.cli import main

    source = inspect.getsource(main)
    assert '"upgrade": cmd_change,' in source and '"downgrade": cmd_change,' in source
    assert 'for direction in ("upgrade", "downgrade"):' in inspect.getsource(main.build_parser)


@check
def downgrade_plan_names_losses_and_data_fixes():
    """The plan to 25.0 flags each dropped table or column as lost, and each data fix as not undone;
    the first flagged drop is really a ``drop_table`` in its revision's downgrade."""
    from runbooks.cli.render import plan_text

    graph = _graph()
    said = plan_text(_plan("25.0"), graph, "sqlite")
    assert "drops table dataset_storage_operation_run_item" in said and "(data in it is lost" in said
    assert "data fix: the rows its upgrade changed stay as they are" in said
    downgrade = graph.revisions["6925fe4c8a17"].path.read_text(encoding="utf-8").split("def downgrade", 1)[1]
    assert "drop_table" in downgrade and "dataset_storage_operation_run_item" in downgrade


@check
def downgrade_runbook_goes_to(release):
    """The runbook moves the sample down to the release two tags below this code's newest, then
    restores it from the backup it took."""
    from runbooks.code.targets import release_back

    notebook = (PROJECT_ROOT / "notebooks" / "downgrade.ipynb").read_text(encoding="utf-8")
    assert "target = target or release_back(selection.graph, 2)" in notebook
    assert "restore_sample = True" in notebook and "restore(" in notebook
    assert release_back(_graph(), 2) == str(release)
