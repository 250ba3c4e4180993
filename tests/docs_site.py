"""The built documentation site, made once per test session and shared by the docs tests.

``mkdocs build --strict`` executes every runbook, so it is the slow step: the first test that
needs the site builds it into a temporary folder and every later one reuses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from shared_run import made_once, run_folder

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "test-artifacts"

_built: dict[str, object] = {}


def built_site() -> Path:
    """The site, built once; ``RUNBOOKS_SITE_DIR`` names a site already built by `mkdocs build --strict`."""
    prebuilt = os.environ.get("RUNBOOKS_SITE_DIR")
    if prebuilt:
        return Path(prebuilt).resolve()
    if "site" not in _built:
        # One build per test run, whichever worker asks first; the others wait for it and share it.
        workdir = made_once(run_folder() / "docs", _build)
        _built["site"] = workdir / "site"
    return _built["site"]  # type: ignore[return-value]


def _build(workdir: Path) -> None:
    workdir.mkdir(parents=True)
    target = workdir / "site"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(target)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "RUNBOOKS_DOCS_BUILD_DIR": str(workdir / "build")},
        timeout=1800,
    )
    elapsed = time.monotonic() - started
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "docs-build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    (ARTIFACTS / "docs-build-seconds.txt").write_text(f"{elapsed:.1f}\n", encoding="utf-8")
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise AssertionError(f"mkdocs build --strict failed ({result.returncode}):\n{tail}")


def page_path(site: Path, uri: str) -> Path:
    """``reference/scripts.md`` -> ``site/reference/scripts/index.html``."""
    stem = uri.rsplit(".", 1)[0]
    if stem == "index":
        return site / "index.html"
    return site / stem / "index.html"
