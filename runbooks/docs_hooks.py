"""MkDocs hooks: execute every runbook against a fresh sample database, generate reference pages.

``mkdocs build --strict`` alone does the whole job: notebooks run with papermill into
``build/docs/runbooks/`` (never into ``notebooks/``), each against a sample database made
for this build, and the site renders those executed copies. A failing notebook fails the build.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

# MkDocs loads hooks by path: make the project importable however `mkdocs` was started.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.plugins import event_priority  # noqa: E402
from mkdocs.structure.files import File, Files  # noqa: E402

from runbooks.errors import RunbookError  # noqa: E402
from runbooks.execute import available_tasks, run_notebook  # noqa: E402
from runbooks.samples import PROJECT_ROOT  # noqa: E402

BUILD_DIR = PROJECT_ROOT / "build" / "docs"
RUNBOOKS_URI = "runbooks"
log = logging.getLogger("mkdocs.hooks.runbooks")

_executed: dict[str, Path] = {}
_generated: dict[str, str] = {}


def on_config(config):
    _executed.clear()
    _generated.clear()
    if BUILD_DIR.exists():
        shutil.rmtree(BUILD_DIR)
    home = BUILD_DIR / "home"  # a fresh sample database for this build
    for task in available_tasks():
        started = time.monotonic()
        output = BUILD_DIR / RUNBOOKS_URI / f"{task}.ipynb"
        try:
            run_notebook(task, output=output, home=home)
        except RunbookError as error:
            raise PluginError(f"runbook {task} failed, so the build fails: {error}") from None
        log.info(f"executed runbook {task} in {time.monotonic() - started:.1f}s")
        _executed[task] = output
    from runbooks.docs_reference import generate_pages

    _generated.update(generate_pages())
    return config


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config) -> Files:
    for task in _executed:
        # A plain File rooted in the build folder: mkdocs-jupyter wraps it like any docs file.
        uri = f"{RUNBOOKS_URI}/{task}.ipynb"
        files.append(File(uri, str(BUILD_DIR), config.site_dir, config.use_directory_urls))
    for uri, content in _generated.items():
        files.append(File.generated(config, uri, content=content))
    return files


def executed_notebooks() -> dict[str, Path]:
    return dict(_executed)

