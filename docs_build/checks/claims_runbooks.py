"""Claims the runbooks' Markdown cells and the task pages make about the runbooks themselves: how a
runbook picks its database, what a label or an outcome means, what ``run`` ends with.

What a runbook's executed cells print is bound with ``<!-- shown: RUNBOOK/SECTION ... -->`` instead
(``docs_build/checks/claims.py``); the checks here back the general rule such a sentence states.
"""

from __future__ import annotations

import inspect
import os

from docs_build.checks.claim_registry import _env, _graph, check


@check
def selection_order_is_url_then_checkout_then_sample():
    """``--db``, then ``RUNBOOK_DB_URL``, then the checkout's configured database, then the sample."""
    from runbooks.settings import DB_URL_ENV
    from runbooks.tasks import selection

    source = inspect.getsource(selection._choose)
    order = [source.index(s) for s in ("if db:", "if os.environ.get(DB_URL_ENV):", "env.root is not None", "sample =")]
    assert order == sorted(order), order
    saved = os.environ.get(DB_URL_ENV)
    try:
        os.environ[DB_URL_ENV] = "sqlite:////nowhere/galaxy.sqlite"
        assert selection._choose(None, None, False, print).source == "environment"
        assert selection._choose("sqlite:////given.sqlite", None, False, print).source == "argument"
        del os.environ[DB_URL_ENV]
        assert selection._choose(None, None, False, print).source == "sample"  # no checkout: galaxy-data
    finally:
        os.environ.pop(DB_URL_ENV, None)
        if saved is not None:
            os.environ[DB_URL_ENV] = saved


@check
def release_label_is_the_newest_tag_below_plus_n(label):
    """At the gxy head: the newest release tag among its ancestors, ``+N`` for the N revisions Alembic's
    upgrade runs from that tag to the head (counted by Alembic, not by the tool's graph)."""
    from alembic.script import ScriptDirectory

    from runbooks.code.revisions import release_key

    env, graph = _env(), _graph()
    head = graph.heads("gxy")[0]
    below = graph.ancestors([head])
    tag = max((t for t, rev in graph.release_tags.items() if rev == "base" or rev in below), key=release_key)
    folders = [str(env.versions_dir(branch)) for branch in ("gxy", "tsi")]
    script = ScriptDirectory(str(env.script_location), version_locations=folders)
    past = len(script._upgrade_revs(head, graph.release_tags[tag]))
    assert graph.release_label([head]) == (tag if past == 0 else f"{tag}+{past}") == str(label), (tag, past)


@check
def run_ends_with_the_runbooks_outcome():
    """``run TASK`` prints the outcome cell's text last and exits with its code; each runbook of the site's
    menu, as the build executed it, records one, 0 or 1."""
    from docs_build.site_build.execution import executed
    from docs_build.site_build.hooks import TASK_ORDER, TUTORIAL
    from runbooks.cli import main
    from runbooks.cli.runbook_outcome import read_outcome

    source = inspect.getsource(main.cmd_run)
    assert source.index("read_outcome(output)") < source.index("print(text)") < source.index("return code")
    for task in (*TASK_ORDER, TUTORIAL):
        found = read_outcome(executed(task).notebook)
        assert found is not None and found[0] in (0, 1), (task, found)


def _notebook(task: str) -> dict:
    import json

    from runbooks.paths import PROJECT_ROOT

    return json.loads((PROJECT_ROOT / "notebooks" / f"{task}.ipynb").read_text(encoding="utf-8"))


def _code(task: str) -> str:
    return "\n".join("".join(c["source"]) for c in _notebook(task)["cells"] if c["cell_type"] == "code")


@check
def runbook_steps(runbook, steps):
    """The runbook's ``##`` headings name ``steps`` in this order (a hyphen stands for a space)."""
    headings = " | ".join(
        line.lower()
        for cell in _notebook(str(runbook))["cells"]
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("## ")
    ).replace("-", " ")
    position = 0
    for step in steps:
        found = headings.find(str(step).replace("-", " "), position)
        assert found >= 0, (step, headings[position:])
        position = found + len(str(step))


@check
def runbook_changes_only_the_sample_unless_confirmed(runbooks):
    """``confirm`` is a parameter, False by default; the change is applied only to the embedded sample or
    with it, after a rehearsal that passed and a pre-flight with no gap; otherwise the cell says why not."""
    from runbooks.cli.notebook_run import notebook_path
    from runbooks.cli.parameters import declared_parameters

    for task in runbooks if isinstance(runbooks, list) else [runbooks]:
        assert declared_parameters(notebook_path(task))["confirm"] is False, task
        code = _code(task)
        guard = "if rehearsal.succeeded and not server.has_gaps and (selection.is_sample or confirm):"
        assert code.count(guard) == 1 and code.index(guard) < code.index("apply_change(change)"), task


@check
def downgrade_plan_undoes_newest_first(tag):
    """The plan from the heads down to ``tag``: no revision undone before one of its descendants, the gxy
    head first."""
    from runbooks.tasks.migrate import make_plan

    graph = _graph()
    rows = tuple(sorted([*graph.heads("gxy"), *graph.heads("tsi")]))
    done = make_plan(graph, rows, str(tag), "downgrade").revisions
    assert done[0] == graph.heads("gxy")[0], done[:2]
    for i, rev in enumerate(done):
        assert not any(rev in graph.ancestors([later]) for later in done[i + 1 :]), rev


@check
def a_failed_change_prints_the_error_the_revision_and_the_restore():
    """NOT DONE: the revision it stopped in, the database errors, and the backup's restore command."""
    from runbooks.cli.render import outcome_text

    source = inspect.getsource(outcome_text)
    failed = source[source.index("NOT DONE") :]
    for said in ("stopped while running: {outcome.stopped_at}", "database error: {error}", "{restore_command(change)}"):
        assert said in failed, said


@check
def tutorial_steps(steps):
    """The tutorial runbook (first-migration) takes ``steps`` in this order."""
    runbook_steps("first-migration", steps)


@check
def downgrade_targets_resolve(forms):
    """A release tag, a revision and each of ``forms`` resolve, from the heads, to a target the tool plans
    (REV stands for the gxy head)."""
    from runbooks.code.targets import resolve_target

    graph = _graph()
    head = graph.heads("gxy")[0]
    rows = tuple(sorted([head, *graph.heads("tsi")]))
    examples = {"REV-1": f"{head}-1"}
    for form in ["25.1", graph.revisions[head].parents[0], *forms]:
        target = resolve_target(examples.get(str(form), str(form)), graph, rows)
        assert target is not None, form


@check
def shown_sentences_count_as_executed_and_are_checked():
    """A ``shown`` marker makes its sentence *executed* in the report, and the build looks for its values in
    what the runbook's executed cells printed: a value they did not print fails."""
    from docs_build.checks.claim_report import claim_units
    from docs_build.checks.claims import check_binding, shown_bindings

    text = "The sample is `up-to-date`. <!-- shown: status/step-2 state=up-to-date --> It reads rows."
    assert [kind for kind, _ in claim_units(text)] == ["executed", "unbound"]
    assert check_binding(shown_bindings(text)[0], {}) is None
    wrong = text.replace("up-to-date", "behind")
    assert "do not show behind" in check_binding(shown_bindings(wrong)[0], {})


@check
def create_body_downgrade_reverses_upgrade():
    """The body the create runbook writes: ``downgrade()`` drops, in reverse order, what ``upgrade()`` adds."""
    import re

    from runbooks.tasks.create import add_column_body

    body = add_column_body("stored_workflow", "run_count", "sa.Integer", index=True)
    added = re.findall(r"\b(add_column|create_index)\(", body.upgrade)
    dropped = re.findall(r"\b(drop_column|drop_index)\(", body.downgrade)
    undo = {"add_column": "drop_column", "create_index": "drop_index"}
    assert len(added) == 2 and dropped == [undo[step] for step in reversed(added)], (added, dropped)


@check
def create_writes_into_the_checkout_with_galaxy_root():
    """``galaxy_root`` set: the revision goes to that checkout's ``versions_gxy``; empty: a throwaway workspace."""
    code = _code("create")
    assert (
        'env = GalaxyEnv.from_checkout(galaxy_root) if galaxy_root else ensure_workspace(scratch / "workspace")' in code
    )
    assert "create_revision(message, env)" in code


@check
def lint_reads_without_importing_and_has_the_rules_listed():
    """The lint parses the file (``ast``) and imports nothing from it; its rules include the ones the
    create runbook lists, one each."""
    from pathlib import Path

    import runbooks.lint as lint
    from runbooks.lint.registry import RULES

    listed = {
        "missing-downgrade",
        "downgrade-only-passes",
        "no-transaction",
        "raw-op-call",
        "not-current-head",
        "index-locks-table",
        "foreign-key-locks-table",
        "not-null-without-default",
        "unbatched-data-change",
    }
    assert listed <= set(RULES), listed - set(RULES)
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(lint.__file__).parent.rglob("*.py"))
    assert "ast.parse(" in source
    assert not any(call in source for call in ("import_module(", "spec_from_file_location(", "exec(", "runpy"))


@check
def a_checkout_runs_its_own_code_and_virtualenv():
    """With a checkout, Galaxy's code runs in a process on the checkout's ``lib/`` with its virtualenv's Python
    (``.venv`` or ``$GALAXY_VIRTUAL_ENV``), or this Python when it has none, said once."""
    from runbooks.code.environment import GalaxyEnv
    from runbooks.galaxy import protocol

    source = inspect.getsource(protocol.server_command)
    assert 'env["PYTHONPATH"] = _path_with([lib_dir]' in source
    assert "argv = [str(python or sys.executable)" in source and "_announce_fill_in(checkout.root)" in source
    finder = inspect.getsource(GalaxyEnv.python.fget)
    assert "GALAXY_VIRTUAL_ENV_ENV" in finder and '".venv"' in finder
