"""Claims of the home page about how the runbooks are run and built, checked against the CLI, the
docs build's execution step and the packaging."""

from __future__ import annotations

import inspect
import tomllib
from importlib import metadata

from docs_build.checks.claim_registry import check
from runbooks.paths import PROJECT_ROOT


@check
def every_task_has_a_runbook_executed_on_a_fresh_sample(galaxy_data):
    """One notebook per task of the menu, each executed by the build with a home (and so a sample
    database) of its own that is removed afterwards; the page is the executed notebook."""
    from docs_build.site_build import execution
    from runbooks.cli.main import TASKS

    assert metadata.version("galaxy-data") == str(galaxy_data)
    assert all((PROJECT_ROOT / "notebooks" / f"{task}.ipynb").is_file() for task, _, _ in TASKS)
    source = inspect.getsource(execution)
    assert 'home = work / "home"  # a fresh sample database, for this runbook alone' in source
    assert "run_notebook(task, output=output, home=home)" in source and "shutil.rmtree(home" in source
    assert "executed runbook as a page" in (PROJECT_ROOT / "docs_build" / "site_build" / "pipeline.py").read_text()


@check
def the_command_menu_and_its_forms():
    """No argument: the menu, whose tasks are the site's; each task a subcommand, ``run TASK`` too; the
    installed script is ``galaxy-migrations``, the same ``main`` as ``python -m runbooks``."""
    from docs_build.site_build.hooks import TASK_ORDER
    from runbooks.cli import main

    assert [task for task, _, _ in main.TASKS] == list(TASK_ORDER)
    assert "if not args.task:\n            print(menu_text())" in inspect.getsource(main.main)
    choices = main.build_parser()._subparsers._group_actions[0].choices
    assert set(TASK_ORDER) | {"run"} <= set(choices)
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["galaxy-migrations"] == "runbooks.cli.main:main"
    assert "main(" in (PROJECT_ROOT / "runbooks" / "__main__.py").read_text()


@check
def runbook_runs_keep_the_password_out():
    """The sample made with Galaxy's own initialization in the tool's home; the executed notebook
    saved under its ``runs/``; the URL passed to the kernel in ``RUNBOOK_DB_URL``, a URL given as a
    parameter refused, the saved copy scrubbed; no database named: the sample."""
    from runbooks import paths
    from runbooks.cli import notebook_run
    from runbooks.errors import UsageError
    from runbooks.paths import runbook_home
    from runbooks.tasks import samples, selection

    assert 'return PROJECT_ROOT / ".runbooks"' in inspect.getsource(paths.runbook_home)  # in a clone
    assert "galaxy_commands.initialize(db, env)" in inspect.getsource(samples._make)
    assert "_make(" in inspect.getsource(samples.make_sample)
    assert samples.embedded_sample_url().sqlite_path.parent == runbook_home()
    assert notebook_run.output_path("status", None).parent == runbook_home() / "runs"
    assert "changes = {DB_URL_ENV: db.secret()" in inspect.getsource(notebook_run._kernel_env)
    try:
        notebook_run.check_parameters({"db": "postgresql://galaxy:secret@db/galaxy"})
        raise AssertionError("a URL parameter was accepted")
    except UsageError:
        pass
    assert "_scrub(output, secrets)" in inspect.getsource(notebook_run.run_notebook)
    assert "ensure_embedded_sample" in inspect.getsource(selection._choose)


@check
def jupyterlab_refuses_root_without_allow_root():
    """Read from jupyter_server's own source (importing it costs seconds)."""
    from importlib.util import find_spec
    from pathlib import Path

    source = Path(find_spec("jupyter_server").submodule_search_locations[0], "serverapp.py").read_text()
    start = source[source.index("    def start_app(self) -> None:") :]
    assert "if not self.allow_root:" in start[:1200] and "if uid == 0:" in start[:1200]
    assert 'flags["allow-root"] = (\n    {"ServerApp": {"allow_root": True}},' in source


@check
def site_sections_hold_what_the_home_page_says():
    """Tutorial: the one first-migration page and its runbook; How-to: a page and a runbook per task,
    the move from SQLAlchemy Migrate and the separate install database; Reference: the seven pages
    generated from the installed code; Explanation: the five pages named first in the navigation."""
    from docs_build.generated import reference
    from docs_build.site_build.hooks import TASK_ORDER

    docs = PROJECT_ROOT / "docs"
    assert sorted(p.name for p in (docs / "tutorial").glob("*.md")) == ["first-migration.md"]
    tutorial = (PROJECT_ROOT / "notebooks" / "first-migration.ipynb").read_text(encoding="utf-8")
    assert "sample" in tutorial and "create_revision" in tutorial
    tasks = {p.stem for p in (docs / "tasks").glob("*.md")}
    assert tasks == {*TASK_ORDER, "from-migrate", "install-database"}, tasks
    assert all((PROJECT_ROOT / "notebooks" / f"{task}.ipynb").is_file() for task in tasks)
    generated = inspect.getsource(reference._pages)
    for page in ("cli", "scripts", "release-tags", "revision-graph", "util-helpers", "exceptions", "lint-rules"):
        assert f'"reference/{page}.md":' in generated, page
    nav = (PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("  - Explanation:", 1)[1]
    named = [line.split(": ", 1)[1].strip() for line in nav.splitlines()[1:6]]
    assert named == [
        f"explanation/{p}.md" for p in ("branches", "startup", "sqlite-postgresql", "merges", "sqlalchemy-migrate")
    ]
