"""A directory shaped like a Galaxy checkout of one release, assembled from that release's installed packages.

The practice run of the pre-22.05 runbook needs release 22.01's code without a ``release_22.01``
clone: galaxy-data 22.1.1 in its pinned Python 3.9 venv (release_venvs.py) gives it, laid out as
a checkout so 22.01's ``manage_db.sh`` finds what it looks for from the tree's root:

    DEST/lib/galaxy/...        copied (default) or symlinked from the venv's site-packages
                               ``galaxy`` namespace (every installed galaxy-* package)
    DEST/config/galaxy.yml     a minimal ``galaxy:`` section with database_connection (default:
                               Galaxy's relative sqlite:///database/universe.sqlite?isolation_level=IMMEDIATE)
    DEST/database/             empty directory (optionally filled from a gzipped .sqlite)
    DEST/.venv -> the release venv (the tree "has its own virtualenv")
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from runbooks.galaxy.release_venvs import pinned_venv

DEFAULT_DB = "sqlite:///database/universe.sqlite?isolation_level=IMMEDIATE"
LAST_MIGRATE_RELEASE = "22.1.1"  # Galaxy 22.01: SQLAlchemy Migrate up to version 180


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found or not (found[0] / "galaxy").is_dir():
        raise RuntimeError(f"no site-packages/galaxy in {venv}")
    return found[0]


def build_tree(
    release: str,
    dest: Path,
    venv: Path,
    symlink: bool = False,
    database_connection: str = DEFAULT_DB,
    sqlite_fixture: Path | None = None,
) -> Path:
    """``dest`` laid out as a checkout of galaxy-data ``release`` from ``venv`` (see the module's docstring)."""
    dest = dest.resolve()
    venv = venv.resolve()
    src = site_packages(venv) / "galaxy"
    (dest / "lib").mkdir(parents=True, exist_ok=True)
    target = dest / "lib" / "galaxy"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    if symlink:
        target.symlink_to(src, target_is_directory=True)
    else:
        shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
    (dest / "config").mkdir(exist_ok=True)
    (dest / "config" / "galaxy.yml").write_text(
        f"# a checkout-shaped tree of galaxy-data {release}\ngalaxy:\n  database_connection: '{database_connection}'\n"
    )
    (dest / "database").mkdir(exist_ok=True)
    if sqlite_fixture:
        with gzip.open(sqlite_fixture, "rb") as fin, open(dest / "database" / "universe.sqlite", "wb") as fout:
            shutil.copyfileobj(fin, fout)
    link = dest / ".venv"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(venv, target_is_directory=True)
    return dest


def release_2201_tree(dest: Path) -> Path:
    """A checkout-shaped tree of Galaxy 22.01 (lib/galaxy symlinked into its pinned Python 3.9 venv)."""
    return build_tree(LAST_MIGRATE_RELEASE, dest, pinned_venv(LAST_MIGRATE_RELEASE), symlink=True)
