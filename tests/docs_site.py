"""The built documentation site, made once per test session and shared by the docs tests.

The site is built as a new contributor and the publish workflow build it: from a fresh clone of
this repository (tests/fresh_clone.py), with the workflow's build step (which is the README's
command) run under a CI runner's environment, with empty caches. That cold build is the only build
of the run that executes the runbooks; a second, warm one shows what a rebuild prints. It starts in
the background when the tests that need it are collected (tests/conftest.py), into the run's
folder, and every test that needs the site, or a runbook as the site shows it, waits for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import yaml
from fresh_clone import clone_working_tree, readme_venv, runner_env

from docs_build.settings import DOCS_CACHE_ENV
from docs_build.site_build import execution
from runbooks.settings import SITE_DIR_ENV

from shared_run import made_once, run_folder

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "test-artifacts"

_built: dict[str, object] = {}


def built_site() -> Path:
    """The site, built once; ``RUNBOOK_SITE_DIR`` names a site already built by `mkdocs build --strict`."""
    prebuilt = os.environ.get(SITE_DIR_ENV)
    if prebuilt:
        return Path(prebuilt).resolve()
    thread = _built.get("thread")
    if thread is not None and thread is not threading.current_thread():
        thread.join()  # this worker's background build: its failure is the answer, not a second build
        if "error" in _built:
            raise AssertionError(f"the session's site build failed: {_built['error']}") from None
    if "site" not in _built:
        # One build per test run, whichever worker asks first; the others wait for it and share it.
        workdir = made_once(run_folder() / "docs", _build)
        _built["site"] = workdir / "clone" / "site"
    return _built["site"]  # type: ignore[return-value]


def build_in_background() -> None:
    """Start ``built_site()`` in a thread of this process; a test asking for the site meanwhile waits for it.

    Two workers may both start one: the file lock in ``made_once`` makes one build and the other wait.
    """
    if os.environ.get(SITE_DIR_ENV) or "thread" in _built:
        return
    thread = threading.Thread(target=_build_quietly, name="site-build", daemon=True)
    _built["thread"] = thread
    thread.start()


def stop_background_build() -> None:
    """A worker leaving before its background build ended (``-x``, a crash) stops the build too."""
    process = _built.get("process")
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


def _build_quietly() -> None:
    try:
        built_site()
    except Exception as error:  # noqa: BLE001  (kept for the first test that asks for the site)
        _built["error"] = error


WORKFLOW = PROJECT / ".github" / "workflows" / "docs.yml"
BUILD_STEP = "Execute the runbooks and build the site"


def workflow_build_step() -> dict:
    """The publish workflow's build step: ``{"run": command, "env": {...}}``."""
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]
    step = next(step for step in steps if step.get("name") == BUILD_STEP)
    return {"run": step["run"].strip(), "env": {k: str(v) for k, v in step.get("env", {}).items()}}


def runner_cache() -> Path:
    """The build's XDG_CACHE_HOME: empty when the run starts, outside the folder renamed when the build ends."""
    return run_folder() / "docs-runner-cache"


def use_the_build_cache() -> None:
    """This process reads executed runbooks where the session's build wrote them, so none runs twice
    (with ``RUNBOOK_SITE_DIR``, a site built elsewhere, where that build left them: the user's cache)."""
    if os.environ.get(SITE_DIR_ENV):
        return
    execution.CACHE_DIR = runner_cache() / "galaxy-migrations" / "docs" / "runbooks"
    os.environ[DOCS_CACHE_ENV] = str(execution.CACHE_DIR)  # and the processes this one starts (python -m docs_build)


def executed(task: str) -> SimpleNamespace:
    """``task`` as the session's site build executed it: the notebook its page offers for download (waits
    for the build). Read from the site, not by cache key, so a tree edited during the run changes nothing."""
    return SimpleNamespace(task=task, notebook=built_site() / "runbooks" / task / f"{task}.ipynb")


def reads_the_site_build(test):
    """Marks a test that waits for the site build: it is run with the site tests, last (tests/conftest.py)."""
    test.reads_the_site_build = True
    return test


def _run_step(command: str, clone: Path, env: dict) -> dict:
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "-e", "-c", command], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    _built["process"] = process
    output, _ = process.communicate(timeout=1800)
    return {"rc": process.returncode, "output": output, "seconds": round(time.monotonic() - started, 1)}


def _build(workdir: Path) -> None:
    """A fresh clone, the README's venv, then the workflow's build step twice: cold, then warm."""
    workdir.mkdir(parents=True)
    clone = clone_working_tree(workdir / "clone")
    readme_venv(clone)
    step = workflow_build_step()
    env = runner_env(workdir / "runner", **step["env"])
    env["XDG_CACHE_HOME"] = str(runner_cache())
    ARTIFACTS.mkdir(exist_ok=True)
    runs = {}
    for name in ("cold", "warm"):
        runs[name] = _run_step(step["run"], clone, env)
        (ARTIFACTS / f"docs-build-{name}.log").write_text(runs[name]["output"], encoding="utf-8")
        if runs[name]["rc"] != 0:
            tail = "\n".join(runs[name]["output"].splitlines()[-40:])
            raise AssertionError(f"{step['run']} ({name}, fresh clone) failed ({runs[name]['rc']}):\n{tail}")
    (workdir / "builds.json").write_text(json.dumps({**runs, "env": env, "clone": str(clone)}, indent=1))
    seconds = f"cold {runs['cold']['seconds']}\nwarm {runs['warm']['seconds']}\n"
    (ARTIFACTS / "docs-build-seconds.txt").write_text(seconds)


def build_record() -> dict:
    """What the session's build ran: ``cold`` and ``warm`` (rc, output, seconds), its ``env``, its ``clone``."""
    built_site()
    return json.loads((run_folder() / "docs" / "builds.json").read_text(encoding="utf-8"))


def page_path(site: Path, uri: str) -> Path:
    """``reference/scripts.md`` -> ``site/reference/scripts/index.html``."""
    stem = uri.rsplit(".", 1)[0]
    if stem == "index":
        return site / "index.html"
    return site / stem / "index.html"
