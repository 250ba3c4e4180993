"""A workspace: a private copy of the installed Galaxy migration environment.

Without a Galaxy checkout there is nowhere to write a new revision: the installed
``galaxy-data`` package must never be modified. A workspace holds a copy of what
``DbScript`` reads (``alembic.ini``, ``alembic/`` with ``env.py``, ``script.py.mako``,
``versions_gxy``, ``versions_tsi``, and ``dbrevisions.py``); Galaxy's commands run against it
through ``ALEMBIC_CONFIG`` (the Galaxy worker's child sets it for a ``GalaxyEnv`` without a root),
while ``env.py`` and the revisions still import the installed ``galaxy.model``.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib import metadata
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.errors import UsageError
from runbooks.paths import runbook_home

MARKER = ".runbooks-workspace.json"
WORKSPACE_FILES = ("alembic.ini", "dbrevisions.py")
WORKSPACE_DIRS = ("alembic",)


def default_workspace_dir() -> Path:
    """``.runbooks/workspace`` in the project (``$RUNBOOK_HOME/workspace``): gitignored."""
    return runbook_home() / "workspace"


def galaxy_data_version() -> str:
    try:
        return metadata.version("galaxy-data")
    except metadata.PackageNotFoundError:
        return "unknown"


def ensure_workspace(path: str | os.PathLike | None = None, source: GalaxyEnv | None = None) -> GalaxyEnv:
    """The workspace at ``path`` (default ``default_workspace_dir()``), copied from the package if new.

    Refuses a path that is a file, a non-empty folder that is not a workspace, and a workspace
    copied from another galaxy-data version (its revisions would not match the installed code).
    """
    folder = Path(path).expanduser() if path else default_workspace_dir()
    folder = folder.resolve()
    source = source or GalaxyEnv.from_package()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--workspace {folder} is a file: give a folder (new or made by `create`)")
    marker = folder / MARKER
    if marker.is_file():
        made_from = json.loads(marker.read_text()).get("galaxy_data")
        if made_from != galaxy_data_version():
            raise UsageError(
                f"the workspace {folder} was copied from galaxy-data {made_from}, but {galaxy_data_version()} "
                "is installed: move its new revisions elsewhere and delete the folder, or use another --workspace"
            )
        return GalaxyEnv(folder)
    if folder.is_dir() and any(folder.iterdir()):
        raise UsageError(f"--workspace {folder} is a non-empty folder that is not a workspace: give a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in WORKSPACE_FILES:
        shutil.copy2(source.migrations_dir / name, folder / name)
    for name in WORKSPACE_DIRS:
        shutil.copytree(source.migrations_dir / name, folder / name, ignore=ignore)
    marker.write_text(json.dumps({"galaxy_data": galaxy_data_version(), "copied_from": str(source.migrations_dir)}))
    return GalaxyEnv(folder)


def is_workspace(env: GalaxyEnv) -> bool:
    return env.root is None and (env.migrations_dir / MARKER).is_file()
