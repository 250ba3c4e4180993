"""What the workers of one test run share: a folder and database-name prefix keyed by the run.

pytest-xdist starts one process per core and each builds its own session fixtures; Galaxy-made
databases and the built site are the same for all of them, so the first worker makes each one under
a file lock and the others copy it. The controller (the process that started the workers) sets the
run's id before they start, so they inherit it, and removes what the run made when it ends.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from docs_build.site_build.execution import file_lock
from runbooks.settings import TEST_RUN_ENV

PROJECT = Path(__file__).resolve().parent.parent
RUNS = PROJECT / "build" / "test-runs"
RUN_VARIABLE = TEST_RUN_ENV


def start_run() -> None:
    """In the controller, before workers start: they inherit the variable."""
    os.environ.setdefault(RUN_VARIABLE, uuid.uuid4().hex[:10])


def run_id() -> str:
    start_run()  # a process started without the controller (a plain `pytest -n0`) is its own run
    return os.environ[RUN_VARIABLE]


def run_folder() -> Path:
    folder = RUNS / run_id()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pg_prefix() -> str:
    return f"runbooks_tmpl_{run_id()}_"


def made_once(path: Path, make: Callable[[Path], None]) -> Path:
    """``path``, made by ``make(tmp)`` in the first process that asks; the others wait and reuse it."""
    if path.exists():
        return path
    with file_lock(path.with_name(path.name + ".lock")):
        if not path.exists():
            partial = path.with_name(path.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True) if partial.is_dir() else partial.unlink(missing_ok=True)
            make(partial)
            os.rename(partial, path)  # whole or absent
    return path


def finish_run() -> None:
    shutil.rmtree(RUNS / run_id(), ignore_errors=True)
