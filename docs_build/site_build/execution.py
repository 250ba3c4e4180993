"""Executing the runbooks for the site, cached by content.

Each runbook runs with papermill against a fresh sample database of its own, into the cache
(the user's, ``docs_build/site_build/user_cache.py``), never into ``notebooks/``. An entry is
keyed by what decides the outputs: the notebook, the ``runbooks`` library code, the Galaxy,
Alembic and SQLAlchemy versions and the sample database recipe. A warm build executes nothing;
the notebook tests read the same entries (``executed(task)``), so no notebook runs twice. An entry
shows no path of the clone that made them (``hide_machine_paths``), so any clone may use it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from docs_build.site_build import user_cache
from runbooks.cli.notebook_run import available_tasks, notebook_path
from runbooks.environ import temporary_environ
from runbooks.paths import PROJECT_ROOT
from runbooks.settings import PG_SERVER_ENV

CACHE_DIR = user_cache.RUNBOOKS
FORMAT = 2  # bump when what a cache entry holds changes
LIBRARY = Path(__file__).resolve().parents[2] / "runbooks"
SAMPLE_RECIPE = LIBRARY / "tasks" / "samples.py"  # how the fresh sample database is made (Galaxy's own init)
SHOWN_HOME = ".runbooks"  # what a reader sees instead of the build's sample folder


def _package_folders() -> list[str]:
    """Where this interpreter finds installed packages: its site-packages, and any other on its path."""
    on_path = (p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    folders = {sysconfig.get_paths()["purelib"], *on_path}
    return sorted(folders, key=len, reverse=True)


def hide_machine_paths(text: str) -> str:
    """This machine's paths as a reader of the site sees them: relative to a clone, site-packages, the cache."""
    replacements = (
        (str(CACHE_DIR), f"{user_cache.SHOWN_ROOT}/runbooks"),
        *((folder, "site-packages") for folder in _package_folders()),
        (str(Path(sys.prefix) / "bin") + "/", ""),
        (str(PROJECT_ROOT) + "/", ""),
        (str(PROJECT_ROOT), "."),
    )
    for path, shown in replacements:
        text = text.replace(path, shown)
    return text


# Folders a runbook makes for its run and removes at its end (scratch copies, a workspace, the
# troubleshoot runbook's broken databases): gone when a reader looks, and named after the build's
# process ids, so a page shows ``<scratch>`` in their place, never a path or a command that points there.
SCRATCH_FOLDERS = re.compile(
    rf"(?:{re.escape(tempfile.gettempdir())}/(?:runbooks|rbk)-|{re.escape(SHOWN_HOME)}/troubleshoot-)[\w.-]+"
)


# A runbook's practice PostgreSQL database (from-migrate's), named after the kernel's process id and dropped at its end.
PG_PRACTICE = re.compile(r"\brb_scratch_[0-9a-f]{4}_\d+_[a-z_]+")


def hide_scratch_folders(text: str) -> str:
    return PG_PRACTICE.sub("<scratch>", SCRATCH_FOLDERS.sub("<scratch>", text))


@dataclass(frozen=True)
class Execution:
    task: str
    notebook: Path  # the executed copy, in the cache
    executed_at: str  # ISO 8601, UTC
    seconds: float  # how long papermill ran
    cached: bool  # True: this build executed nothing for it

    def line(self) -> str:
        if self.cached:
            return f"runbook {self.task}: from the cache (executed {self.executed_at}, {self.seconds:.1f}s)"
        return f"runbook {self.task}: executed in {self.seconds:.1f}s"

    def to_json(self) -> dict:
        return {**asdict(self), "notebook": str(self.notebook)}


def _digest_files(paths) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(LIBRARY.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_digest() -> str:
    """The ``runbooks`` package's Python code (not the notebooks link inside it)."""
    return _digest_files(p for p in LIBRARY.rglob("*.py") if "notebooks" not in p.relative_to(LIBRARY).parts)


def key_parts(task: str) -> dict[str, str]:
    versions = {name: metadata.version(name) for name in ("galaxy-data", "alembic", "SQLAlchemy", "papermill")}
    return {
        "format": str(FORMAT),
        "notebook": hashlib.sha256(notebook_path(task).read_bytes()).hexdigest(),
        "library": library_digest(),
        "sample": hashlib.sha256(SAMPLE_RECIPE.read_bytes()).hexdigest(),
        "python": ".".join(map(str, sys.version_info[:2])),
        **versions,
    }


def cache_key(task: str) -> str:
    return hashlib.sha256(json.dumps(key_parts(task), sort_keys=True).encode()).hexdigest()[:20]


def _entry(task: str) -> Path:
    return CACHE_DIR / task / cache_key(task)


def _load(task: str, entry: Path) -> Execution | None:
    meta = entry / "meta.json"
    if not meta.is_file():
        return None
    found = json.loads(meta.read_text(encoding="utf-8"))
    return Execution(task, entry / f"{task}.ipynb", found["executed_at"], found["seconds"], cached=True)


@contextmanager
def file_lock(path: Path):
    """One holder at a time across processes (two builds, two test workers): the second waits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def executed(task: str) -> Execution:
    """``task`` executed on a fresh sample database: from the cache, or run now and cached."""
    entry = _entry(task)
    found = _load(task, entry)
    if found:
        return found
    with file_lock(entry.parent / f"{entry.name}.lock"):  # a second build waits, then reads the cache
        found = _load(task, entry)
        if found:
            return found
        return _execute_into(task, entry)


# Runbooks whose practice database is a PostgreSQL one (from-migrate: the database Galaxy 21.09 made):
# they get the server the claim experiments use, unless RUNBOOK_PG_URL already names one.
PG_RUNBOOKS = ("from-migrate",)


def kernel_environment(task: str) -> dict[str, str]:
    if task not in PG_RUNBOOKS or os.environ.get(PG_SERVER_ENV):
        return {}
    from docs_build.checks.experiments import PG_SERVER

    return {PG_SERVER_ENV: f"{PG_SERVER}/postgres"}


def _execute_into(task: str, entry: Path) -> Execution:
    from runbooks.cli.notebook_run import run_notebook

    work = Path(tempfile.mkdtemp(prefix=f"{entry.name}-", dir=entry.parent))
    try:
        home = work / "home"  # a fresh sample database, for this runbook alone
        output = work / f"{task}.ipynb"
        started = time.monotonic()
        with temporary_environ(kernel_environment(task)):
            run_notebook(task, output=output, home=home)
        seconds = round(time.monotonic() - started, 1)
        text = output.read_text(encoding="utf-8").replace(str(home), SHOWN_HOME).replace(str(work), str(entry))
        output.write_text(hide_scratch_folders(hide_machine_paths(text)), encoding="utf-8")
        shutil.rmtree(home, ignore_errors=True)
        executed_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        (work / "meta.json").write_text(json.dumps({"executed_at": executed_at, "seconds": seconds}), encoding="utf-8")
        os.rename(work, entry)  # complete or absent: a reader never sees half an entry
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _prune(task, keep=entry.name)
    return Execution(task, entry / f"{task}.ipynb", executed_at, seconds, cached=False)


KEEP_OTHERS = 2  # entries kept per runbook besides the current one: other clones on the machine may use them
ABANDONED_SECONDS = 86400  # a ``<key>-…`` folder this old is a build that was killed, not one still running


def _prune(task: str, keep: str) -> None:
    """Complete entries past the newest few go, and folders of builds killed long ago (the lock files stay).

    A build in progress (its ``<key>-…`` folder, in this clone or another sharing the cache) is never touched.
    """
    entries, now = [], time.time()
    for old in (CACHE_DIR / task).iterdir():
        if not old.is_dir() or old.name == keep:
            continue
        if "-" not in old.name:
            entries.append(old)
        elif now - old.stat().st_mtime > ABANDONED_SECONDS:
            shutil.rmtree(old, ignore_errors=True)
    entries.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    for old in entries[KEEP_OTHERS:]:
        shutil.rmtree(old, ignore_errors=True)


def _execute_in_child(task: str) -> Execution:
    return executed(task)


PROJECT_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])  # the folder docs_build/ and runbooks/ are in


@contextmanager
def project_on_workers_path():
    """Spawned workers start with this process's ``sys.path``, and must import ``docs_build`` and this clone's
    ``runbooks``. MkDocs takes the hook's folder off ``sys.path`` again after loading it, and an installed
    ``runbooks`` (editable) brings no ``docs_build``: without this, ``.venv/bin/mkdocs`` fails at the first
    runbook with ModuleNotFoundError (BrokenProcessPool) unless started from the project folder."""
    saved = list(sys.path)
    sys.path.insert(0, PROJECT_IMPORT_ROOT)
    try:
        yield
    finally:
        sys.path[:] = saved


def execute_all(tasks: list[str] | None = None, say: Callable[[str], None] = print, jobs: int = 2) -> list[Execution]:
    """Every runbook, cached ones first, the rest ``jobs`` at a time; one line per runbook."""
    tasks = list(tasks if tasks is not None else available_tasks())
    results: dict[str, Execution] = {}
    missing = []
    for task in tasks:
        found = _load(task, _entry(task))
        if found:
            results[task] = found
            say(found.line())
        else:
            missing.append(task)
    if missing:
        say(f"executing {len(missing)} runbook(s), {min(jobs, len(missing))} at a time: {', '.join(missing)}")
        # Separate processes: papermill's kernel environment (RUNBOOK_HOME) is per process.
        context = multiprocessing.get_context("spawn")
        workers = max(1, min(jobs, len(missing)))
        with project_on_workers_path(), ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_execute_in_child, task): task for task in missing}
            for future in as_completed(futures):
                result = future.result()  # a failed runbook raises here: the build fails
                results[result.task] = result
                say(result.line())
    return [results[task] for task in tasks]
