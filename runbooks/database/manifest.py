"""The manifest beside each backup: what it is a backup of, and how to tell it is whole.

``NAME.manifest.json`` records the source's identity (password masked), dialect,
``alembic_version`` rows, size, sha256, and the tool and galaxy-data versions. ``restore``
checks the file against it (size and checksum: not truncated or changed) and the target
against it (a backup of another database is refused unless forced).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from importlib import metadata
from pathlib import Path

from runbooks import __version__
from runbooks.database.database_meta import read_meta
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import UsageError

SUFFIX = ".manifest.json"


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + SUFFIX)


def identity(db: DatabaseUrl) -> dict:
    """What makes a database the same database: its file, or its server and name."""
    if db.is_sqlite:
        return {"dialect": "sqlite", "path": str(db.sqlite_path)}
    url = db.url
    where = {"host": url.host or "localhost", "port": url.port or 5432, "database": url.database}
    return {"dialect": "postgresql", **where}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _galaxy_data_version() -> str | None:
    try:
        return metadata.version("galaxy-data")
    except metadata.PackageNotFoundError:
        return None


def make_manifest(backup: Path, db: DatabaseUrl, rows: tuple[str, ...] | None) -> dict:
    """What the backup is; PostgreSQL: also what the dump does not restore (owner, privileges, settings)."""
    return _describe(backup, db, rows) | ({} if db.is_sqlite else {"database_meta": read_meta(db).to_json()})


def _describe(backup: Path, db: DatabaseUrl, rows: tuple[str, ...] | None) -> dict:
    return {
        "file": backup.name,
        "database": db.masked(),
        "source": identity(db),
        "dialect": db.dialect,
        "alembic_version": list(rows) if rows is not None else None,
        "size": backup.stat().st_size,
        "sha256": sha256_of(backup),
        "tool": f"galaxy-runbooks {__version__}",
        "galaxy_data": _galaxy_data_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def read_manifest(backup: Path) -> dict | None:
    path = manifest_path(backup)
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"the manifest {path} cannot be read ({error}): nothing was changed") from None
    if not isinstance(manifest, dict):
        raise UsageError(f"the manifest {path} is not a backup manifest: nothing was changed")
    return manifest


def check_against(manifest: dict, backup: Path, target: DatabaseUrl, force: bool) -> None:
    """The file is the one the manifest describes, and a backup of ``target`` (unless ``force``)."""
    size = backup.stat().st_size
    if size != manifest.get("size") or sha256_of(backup) != manifest.get("sha256"):
        raise UsageError(
            f"{backup} does not match its manifest ({size} bytes, the manifest says {manifest.get('size')}; "
            "checksum differs): it was truncated or changed; nothing was changed"
        )
    if manifest.get("source") != identity(target) and not force:
        raise UsageError(
            f"{backup} is a backup of {manifest.get('database')}, not of {target}: "
            "pass --force to restore it onto this database anyway; nothing was changed"
        )
