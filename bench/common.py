"""Shared helpers for the benchmarks: timing commands, and Galaxy's own commands as scripts run them."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runbooks.settings import GALAXY_DB_OVERRIDE_ENV

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

# What `scripts/db_dev.sh <command>` runs: Galaxy's DbScript, configured for the database by
# GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION, in a fresh interpreter.
GALAXY_COMMAND = (
    "import sys; from argparse import Namespace; from galaxy.model.migrations.dbscript import DbScript; "
    "command, revision = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None); "
    "getattr(DbScript(), command)(Namespace(revision=revision, sql=False, repair=False, verbose=False, "
    "indicate_current=False))"
)


def galaxy(command: str, url: str, revision: str | None = None) -> list[str]:
    return [sys.executable, "-c", GALAXY_COMMAND, command] + ([revision] if revision else [])


def ours(*args: str) -> list[str]:
    return [sys.executable, "-m", "runbooks", *args]


def timed(argv: list[str], url: str | None = None) -> float:
    env = dict(os.environ)
    if url:
        env[GALAXY_DB_OVERRIDE_ENV] = url
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=PROJECT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"benchmark command failed: {' '.join(argv[:4])}: {result.stderr.strip()[-300:]}")
    return elapsed


def median(values: list[float]) -> float:
    return statistics.median(values)


def sample(target: str | None, folder: Path) -> Path:
    """A SQLite database made by Galaxy's own code at ``target`` (cached in ``folder``)."""
    from runbooks.database.urls import DatabaseUrl
    from runbooks.tasks.samples import make_sample

    path = folder / f"sample-{target or 'head'}.sqlite"
    if not path.exists():
        make_sample(DatabaseUrl.parse(f"sqlite:///{path}"), target)
    return path


def scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="runbooks-bench-"))


def copy(path: Path, folder: Path, name: str) -> str:
    target = folder / name
    shutil.copyfile(path, target)
    return f"sqlite:///{target}"
