"""Claims the Contributing page makes about how this project builds, checks and publishes the guide,
each against the project's own code, configuration and committed files (read, or called on a small input)."""

from __future__ import annotations

import inspect
import json
import os
import re
import runpy
from importlib import metadata

import yaml

from docs_build.checks.claim_registry import check
from runbooks.paths import PROJECT_ROOT


def _text(path: str) -> str:
    return (PROJECT_ROOT / path).read_text(encoding="utf-8")


def _mkdocs() -> dict:
    text = re.sub(r"!!python/name:\S+", "null", _text("mkdocs.yml"))
    return yaml.safe_load(text)


def _workflow(name: str) -> dict:
    return yaml.safe_load(_text(f".github/workflows/{name}"))


# -- how the site is made ---------------------------------------------------------------------------


@check
def site_is_built_through_the_hook(hook):
    assert _mkdocs()["hooks"] == [hook]
    from docs_build.site_build import hooks

    assert "prepare(" in inspect.getsource(hooks.on_config)  # the execution step runs first
    assert (PROJECT_ROOT / "docs_build" / "__main__.py").is_file()


@check
def runbooks_run_with_papermill_in_the_cache(jobs, cache):
    from docs_build.site_build import execution, user_cache
    from runbooks.cli import notebook_run

    assert "papermill.execute_notebook(" in inspect.getsource(notebook_run.run_notebook)
    assert inspect.signature(execution.execute_all).parameters["jobs"].default == jobs
    assert user_cache.SHOWN_ROOT == cache.rstrip("/") and "CACHE_DIR = user_cache.RUNBOOKS" in inspect.getsource(
        execution
    )
    assert user_cache.ROOT.parts[-2:] == ("galaxy-migrations", "docs")
    assert (PROJECT_ROOT / "notebooks") not in execution.CACHE_DIR.parents
    source = inspect.getsource(execution._execute_into)
    assert 'home = work / "home"' in source and "tempfile.mkdtemp(" in source and "dir=entry.parent" in source


@check
def a_failing_runbook_fails_the_build():
    from docs_build.site_build import execution, hooks

    assert "future.result()" in inspect.getsource(execution.execute_all)  # a child's exception is raised here
    source = inspect.getsource(hooks.on_config)
    assert "raise PluginError(" in source and "except RunbookError" in source


@check
def runbook_cache_key_and_no_clone_path():
    from docs_build.site_build import execution
    from runbooks.cli.notebook_run import available_tasks

    parts = execution.key_parts(available_tasks()[0])
    assert {"notebook", "library", "sample", "galaxy-data", "alembic", "SQLAlchemy"} <= set(parts)
    assert execution.hide_machine_paths(f"{PROJECT_ROOT}/runbooks/x.py") == "runbooks/x.py"
    assert execution.SAMPLE_RECIPE.name == "samples.py"


@check
def runbook_pages_are_nbconvert_markdown_with_the_download(templates):
    from docs_build.site_build import pipeline

    source = inspect.getsource(pipeline)
    assert "MarkdownExporter(" in source and (PROJECT_ROOT / templates).is_dir()
    assert pipeline.TEMPLATES / "runbook" == PROJECT_ROOT / templates.rstrip("/")
    assert '"{run.task}.ipynb"' in source or 'f"{run.task}.ipynb"' in source


@check
def reference_pages_are_generated_from_galaxy(modules):
    for module in modules:
        text = _text(module)
        assert re.search(r"\bgalaxy\b|RevisionGraph", text), module
    reference = _text("docs_build/generated/reference.py")
    assert "argparse" in reference or "ArgumentParser" in reference or "_actions" in reference


@check
def navigation_lists_only_what_exists():
    from docs_build.site_build.hooks import unlink_pending

    text = "[a](../tasks/a.md) and [b](../runbooks/b.ipynb)"
    assert unlink_pending(text, "explanation/x.md", {"tasks/a.md"}) == "[a](../tasks/a.md) and b"
    assert "exists()" in inspect.getsource(__import__("docs_build.site_build.hooks", fromlist=["x"]).task_table)


@check
def notebooks_are_committed_without_outputs():
    notebooks = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in cells if c["cell_type"] == "code")


@check
def each_runbook_line_says_executed_or_from_the_cache():
    from docs_build.site_build.execution import Execution

    cached = Execution("x", PROJECT_ROOT / "x.ipynb", "2026-01-01T00:00:00Z", 1.0, cached=True).line()
    ran = Execution("x", PROJECT_ROOT / "x.ipynb", "2026-01-01T00:00:00Z", 1.0, cached=False).line()
    assert "from the cache" in cached and "2026-01-01" in cached and "from the cache" not in ran


# -- the checks -------------------------------------------------------------------------------------


@check
def site_tests_check_links_and_generated_pages():
    text = _text("tests/test_docs.py")
    for name in (
        "test_every_internal_link_and_anchor_resolves",
        "test_release_tags_page_matches_revision_tags",
        "test_exceptions_page_quotes_every_message",
        "test_scripts_page_has_every_subcommand_and_flag",
    ):
        assert f"def {name}(" in text, name
    assert "REVISION_TAGS" in text


@check
def browser_tests_drive_chromium(host):
    text = _text("tests/test_browser.py")
    assert f'("{host}", 0)' in text and "playwright" in text.lower() and "chromium" in text
    for name in ("console_errors", "navigation_reaches_every_runbook", "search_finds", "executed_outputs", "download"):
        assert re.search(rf"def test_\w*{name}", text), name
    assert "test-artifacts/" in _text(".gitignore").splitlines() and "test-artifacts" in text


@check
def ci_runs_the_full_suite_and_the_workflow_checks_the_built_site(variable, value):
    assert _text(".ci/run").rstrip().endswith(".venv/bin/python -m pytest")
    from runbooks.settings import SITE_DIR_ENV

    assert SITE_DIR_ENV == variable and "os.environ.get(SITE_DIR_ENV)" in _text("tests/test_docs.py")
    steps = _workflow("docs.yml")["jobs"]["build"]["steps"]
    assert any(step.get("env", {}).get(variable) == value and "tests/test_docs.py" in step["run"] for step in steps)


@check
def mutants_break_each_promise_in_a_clean_copy():
    text = _text("bench/mutants.py")
    assert "git archive HEAD" in text and '"-n0"' in text
    names = re.findall(r'name="([\w-]+)"', text) or re.findall(r'Mutant\(\s*"([\w-]+)"', text)
    assert len(names) >= 10, names
    assert '{0: "survived", 1: "killed"}' in text  # tests that pass with the promise broken: survived


# -- publishing -------------------------------------------------------------------------------------


@check
def docs_workflow_publishes_on_push_to_main(branch):
    flow = _workflow("docs.yml")
    triggers = flow[True] if True in flow else flow["on"]  # YAML reads a bare `on` as true
    assert triggers["push"]["branches"] == [branch]
    runs = " ".join(s.get("run", "") for s in flow["jobs"]["build"]["steps"])
    assert "pip install -q -r requirements.txt" in runs and "mkdocs build --strict" in runs
    uses = [s.get("uses", "") for job in flow["jobs"].values() for s in job["steps"]]
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    assert flow["jobs"]["deploy"]["if"].endswith(f"github.ref == 'refs/heads/{branch}'")


@check
def site_is_static_and_draws_mermaid_without_a_cdn(folder):
    config = _mkdocs()
    assert config.get("site_dir", "site") == "site" and config.get("use_directory_urls", True)
    assert (PROJECT_ROOT / "docs" / folder.strip("/").removeprefix("docs/") / "mermaid.min.js").is_file()
    from docs_build.site_build import hooks

    assert hooks.MERMAID_SCRIPT.endswith("mermaid.min.js") and "MERMAID_SCRIPT" in inspect.getsource(
        hooks.with_local_mermaid
    )


# -- the upgrade matrix -----------------------------------------------------------------------------


@check
def matrix_needs_the_test_server_and_release_venvs(server, venvs, default, python, python_variable):
    from bench.upgrade_matrix import fixtures, reverse  # noqa: F401
    from runbooks import settings

    assert settings.TEST_PG_ENV == server and settings.RELEASE_VENVS_ENV == venvs
    home_path = " / ".join(f'"{part}"' for part in default.removeprefix("~/").split("/"))
    assert f"Path.home() / {home_path}" in inspect.getsource(reverse)
    assert reverse.release_python.__module__ == "make_release_data"
    import make_release_data

    source = inspect.getsource(make_release_data.release_python)
    assert 'OLD_PYTHON if int(release.split(".")[0]) < 23' in source  # 22.x and older
    assert re.search(
        rf"OLD_PYTHON = os.environ.get\(OLD_PYTHON_ENV, \"[^\"]*python{re.escape(python)}\"\)",
        _text("tests/fixtures/make_release_data.py"),
    )
    assert settings.OLD_PYTHON_ENV == python_variable


@check
def matrix_command_options_and_leftovers():
    from bench.upgrade_matrix import __main__ as cli

    source = inspect.getsource(cli.main)
    for text in ('add_parser("refresh"', 'add_parser("merge"', 'add_parser("leftovers"', '"--release"', '"--dialect"'):
        assert text in source, text
    for command in (cli.merge_command, cli.refresh_command):
        assert "leftovers_command(args)" in inspect.getsource(command)
    assert "def test_the_catalogue_is_generated_from_the_matrix_results" in _text("tests/test_doctor_leftovers.py")


@check
def matrix_tests_rerun_a_subset_and_fail_on_unexplained_data(variable=None):
    text = _text("tests/test_upgrade_matrix.py")
    from runbooks.settings import FULL_MATRIX_ENV

    assert FULL_MATRIX_ENV == (variable or FULL_MATRIX_ENV) and f'os.environ.get({"FULL_MATRIX_ENV"}) == "1"' in text
    assert "def test_a_rerun_gives_the_committed_cell(" in text and "def test_no_committed_cell_lost_data(" in text
    for field in ('"stopped_at"', '"rows_lost"', '"outcome"'):
        assert field in text, field
    assert "with_reverse=FULL" in text and "if FULL else SUBSET" in text  # the way back only with every cell


# -- writing pages ----------------------------------------------------------------------------------


@check
def task_pages_link_their_runbooks(without=()):
    """Every task page with a runbook links it as ``../runbooks/<task>.ipynb``, but those named ``without``."""
    without = {without} if isinstance(without, str) else set(without)
    tasks = {p.stem for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb")}
    unlinked = {
        page.name
        for page in (PROJECT_ROOT / "docs" / "tasks").glob("*.md")
        if page.stem in tasks and f"(../runbooks/{page.stem}.ipynb)" not in page.read_text(encoding="utf-8")
    }
    assert unlinked == without, unlinked


@check
def galaxy_data_ships_no_scripts():
    files = [str(f) for f in metadata.files("galaxy-data") or []]
    assert files and not [f for f in files if f.endswith(("db_dev.sh", "manage_db.sh", "run_alembic.sh"))]


@check
def claim_markers_carry_the_values_their_sentence_states(used, total):
    from docs_build.checks.claims import bindings, run_check
    from docs_build.site_build import hooks

    marker = f"<!-- check: with_transaction_count used={used} total={total} -->"
    (right,) = bindings(f"{used} of the {total} gxy revisions use it. {marker}")
    (edited,) = bindings(f"{used + 2} of the {total} gxy revisions use it. {marker}")
    assert right.missing_from_sentence() == [] and edited.missing_from_sentence() == [str(used)]
    assert right.arguments() == {"used": used, "total": total}
    assert run_check("no_such_check_anywhere").startswith("no check named")
    assert "raise PluginError(" in inspect.getsource(hooks.check_claims)
    assert "def test_" in _text("tests/test_claims.py")


@check
def experiments_run_on_both_dialects_cached_beside_the_runbooks():
    from docs_build.checks import experiments
    from docs_build.site_build import user_cache

    assert experiments.CACHE_DIR == user_cache.CLAIMS
    # by default, that is without the two override variables (the tests set one: their own runbook cache)
    names = (user_cache.CLAIMS_CACHE_ENV, user_cache.DOCS_CACHE_ENV)
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        default = runpy.run_path(user_cache.__file__)
    finally:
        os.environ.update(saved)
    assert default["CLAIMS"].parent == default["RUNBOOKS"].parent == default["ROOT"]
    source = inspect.getsource(experiments)
    assert "postgresql" in source and "sqlite" in source


@check
def experiments_fork_from_a_warm_interpreter():
    from docs_build.checks import python_runner

    assert "os.fork()" in inspect.getsource(python_runner)
    assert "def test_galaxy_experiments_equal_fresh_processes(" in _text("tests/test_python_runner.py")


@check
def claim_report_counts_sentences_by_form():
    from docs_build.checks.claim_report import EXCLUSIONS, claim_units

    text = (
        "Galaxy runs two. <!-- check: x --> Alembic runs one.\n\n| a | b |\n| --- | --- |\n"
        "| one row | two |\n\n<!-- generated: y -->\n\nRun this now."
    )
    kinds = [kind for kind, _ in claim_units(text)]
    assert kinds == ["check", "unbound", "table header", "unbound", "placeholder", "instruction"], kinds
    from docs_build.checks.claims import page_sources

    assert 'c["cell_type"] == "markdown"' in inspect.getsource(page_sources)  # outputs are not sentences
    assert {name for name, _ in EXCLUSIONS} >= {"heading", "code", "instruction", "navigation", "generated placeholder"}


@check
def coverage_table_fails_on_a_missing_heading():
    from docs_build.checks import snippets

    table = snippets.coverage_table()
    for topic in ("Task menu", "Quick commands", "create, step", "upgrade notes", "downgrade notes", "status:"):
        assert topic in table, topic
    for topic in ("IncorrectVersionError", "table already exists", "helper list", "Common patterns"):
        assert topic in table, topic
    places = [page for _, where in snippets.COVERAGE for page, _ in where]
    assert places and "raise ValueError(" in inspect.getsource(snippets.coverage_table)
