"""Where the project keeps things: the package, the home, the cache, and files written whole."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from runbooks.settings import CACHE_ENV, HOME_ENV, PROGRAM_ENV

# The folder that holds the ``runbooks`` package: the project in a clone, site-packages when installed.
IMPORT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_ROOT = IMPORT_ROOT
IS_SOURCE_TREE = (IMPORT_ROOT / "pyproject.toml").is_file() and (IMPORT_ROOT / "notebooks").is_dir()
# notebooks/ in a clone; runbooks/notebooks links to it, so an installed wheel carries the runbooks.
NOTEBOOKS_DIR = Path(__file__).resolve().parent / "notebooks"
CLI = "python -m runbooks"  # the program's name in a clone
SCRIPT = "galaxy-migrations"  # the installed script (pyproject.toml's [project.scripts])


def program() -> str:
    """The program as the user invoked it, as it starts a command they paste (design: printed commands).

    ``galaxy-migrations`` when the installed script runs and the shell finds it by that name (else the
    script's absolute path, quoted); ``python -m runbooks`` when run as a module; a kernel the CLI starts
    is told (``RUNBOOK_PROGRAM``); otherwise (a notebook opened in Jupyter, the library imported) the
    clone's name in a clone, the script's when installed.
    """
    if os.environ.get(PROGRAM_ENV):
        return os.environ[PROGRAM_ENV]
    invoked = sys.argv[0] if sys.argv else ""
    name = Path(invoked).name
    if name == "__main__.py" and Path(invoked).resolve().parent == Path(__file__).resolve().parent:
        return CLI
    if name == SCRIPT:
        found = shutil.which(SCRIPT)
        if found and os.path.exists(invoked) and os.path.samefile(found, invoked):
            return SCRIPT
        return shlex.quote(os.path.abspath(invoked))
    return CLI if IS_SOURCE_TREE else SCRIPT


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
