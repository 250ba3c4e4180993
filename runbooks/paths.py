"""Where the project keeps things: the package, the home, the cache, and files written whole."""

from __future__ import annotations

import os
from pathlib import Path

from runbooks.settings import CACHE_ENV, HOME_ENV

# The folder that holds the ``runbooks`` package: the project in a clone, site-packages when installed.
IMPORT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_ROOT = IMPORT_ROOT
IS_SOURCE_TREE = (IMPORT_ROOT / "pyproject.toml").is_file() and (IMPORT_ROOT / "notebooks").is_dir()
# notebooks/ in a clone; runbooks/notebooks links to it, so an installed wheel carries the runbooks.
NOTEBOOKS_DIR = Path(__file__).resolve().parent / "notebooks"
CLI = "python -m runbooks"


def runbook_home() -> Path:
    """The folder for the sample database, backups and executed notebooks.

    ``.runbooks/`` in a clone; installed, a per-user data folder (never the current directory,
    which is often a Galaxy checkout, and never site-packages).
    """
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    if IS_SOURCE_TREE:
        return PROJECT_ROOT / ".runbooks"
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "galaxy-migrations"


def cache_dir() -> Path:
    """What the tool derives from Galaxy's code and a schema alone (the baseline Galaxy's own
    upgrades leave, model comparisons, a head database): the same for every database, so it may
    live apart from the home (``RUNBOOK_CACHE_DIR``; the tests share one per run)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return runbook_home()


def write_whole(path: Path, text: str) -> None:
    """``path`` holds ``text`` whole or is absent: another process may read it at any moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
