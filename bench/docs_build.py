"""Cold vs warm docs build: `mkdocs build --strict` with empty caches, then again with them.

    .venv/bin/python bench/docs_build.py

Cold is a clean clone: no runbook cache, no claim-experiment cache, no derived cache
(``RUNBOOK_CACHE_DIR``: the baseline made by Galaxy's code, model comparisons). Warm is the same build
again with nothing changed: it must execute no runbook (target: 15 s or less).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docs_build.settings import CLAIMS_CACHE_ENV, DOCS_BUILD_DIR_ENV, DOCS_CACHE_ENV
from runbooks.settings import CACHE_ENV

PROJECT = Path(__file__).resolve().parent.parent


def build(env: dict[str, str], site: Path) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"mkdocs build failed:\n{result.stderr[-3000:]}")
    return elapsed, result.stderr


def executed(log: str) -> str:
    found = re.search(r"\((\d+) runbook\(s\) executed", log)
    return found.group(1) if found else "?"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as folder:
        work = Path(folder)
        env = {
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            DOCS_CACHE_ENV: str(work / "runbooks-cache"),
            CLAIMS_CACHE_ENV: str(work / "claims-cache"),
            CACHE_ENV: str(work / "derived-cache"),
            DOCS_BUILD_DIR_ENV: str(work / "build"),
        }
        cold, cold_log = build(env, work / "site")
        warm, warm_log = build(env, work / "site")
    print(f"cold build: {cold:6.1f} s  ({executed(cold_log)} runbooks executed)")
    print(f"warm build: {warm:6.1f} s  ({executed(warm_log)} runbooks executed)")
    print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (the machine is shared)")


if __name__ == "__main__":
    main()
