"""The built documentation site, made once per test session and shared by the docs tests.

``mkdocs build --strict`` executes every runbook, so it is the slow step: it starts in the background
when the tests that need it are collected (tests/conftest.py), into the run's folder, and every test
that needs the site waits for that one build and reuses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from docs_build.settings import DOCS_BUILD_DIR_ENV
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
            raise _built["error"]  # type: ignore[misc]
    if "site" not in _built:
        # One build per test run, whichever worker asks first; the others wait for it and share it.
        workdir = made_once(run_folder() / "docs", _build)
        _built["site"] = workdir / "site"
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


def _build(workdir: Path) -> None:
    workdir.mkdir(parents=True)
    target = workdir / "site"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(target)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", DOCS_BUILD_DIR_ENV: str(workdir / "build")},
    )
    _built["process"] = process
    output, _ = process.communicate(timeout=1800)
    elapsed = time.monotonic() - started
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "docs-build.log").write_text(output, encoding="utf-8")
    (ARTIFACTS / "docs-build-seconds.txt").write_text(f"{elapsed:.1f}\n", encoding="utf-8")
    if process.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise AssertionError(f"mkdocs build --strict failed ({process.returncode}):\n{tail}")


def page_path(site: Path, uri: str) -> Path:
    """``reference/scripts.md`` -> ``site/reference/scripts/index.html``."""
    stem = uri.rsplit(".", 1)[0]
    if stem == "index":
        return site / "index.html"
    return site / stem / "index.html"
