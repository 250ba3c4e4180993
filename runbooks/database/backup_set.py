"""One backup set for a galaxy database and its separate tool shed install database.

Each database gets its own whole backup with its manifest (``runbooks.database.backup``); a set
file beside the galaxy database's backup (``BACKUP.set.json``) names both, with each database's
identity, so the one printed ``restore BACKUP`` puts the pair back. Restoring a set onto a
selection that is not that pair, a set's half onto one database, or a single backup onto a pair
is refused before anything is touched.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.backup import Backup, make_backup
from runbooks.database.manifest import check_against, identity, manifest_path, read_manifest, write_synced
from runbooks.database.restore import UNCHANGED, Restored, checked_backup_file, restore
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError, UsageError

SET_SUFFIX = ".set.json"
KIND = "galaxy+install"


class PartlyRestored(RunbookError):
    """The install database was restored and the galaxy database then refused: the pair is split."""

    exit_code = 1


@dataclass(frozen=True)
class BackupSet:
    galaxy: Backup
    install: Backup
    path: Path


def set_path(galaxy_backup: Path) -> Path:
    return galaxy_backup.with_name(galaxy_backup.name + SET_SUFFIX)


def make_backup_set(db: DatabaseUrl, install_db: DatabaseUrl, folder: Path | None = None) -> BackupSet:
    """Both databases backed up, then the set file: whole or absent."""
    galaxy = make_backup(db, folder)
    install = None
    try:
        install = make_backup(install_db, folder)
        document = {
            "kind": KIND,
            "galaxy": {"file": galaxy.path.name, "source": identity(db), "database": db.masked()},
            "install": {"file": install.path.name, "source": identity(install_db), "database": install_db.masked()},
        }
        partial = galaxy.path.with_name(f".{set_path(galaxy.path).name}.partial")
        write_synced(partial, json.dumps(document, indent=2).encode())
        os.replace(partial, set_path(galaxy.path))
    except BaseException:
        for made in (galaxy, install):
            if made is not None:
                for path in (made.path, manifest_path(made.path)):
                    path.unlink(missing_ok=True)
        raise
    return BackupSet(galaxy, install, set_path(galaxy.path))


def read_set(backup: Path) -> dict | None:
    path = set_path(backup)
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"the backup set {path} cannot be read ({error}): nothing was changed") from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise UsageError(f"{path} is not a backup set of a galaxy and an install database: nothing was changed")
    return document


def restore_selection(
    backup: Path | str, db: DatabaseUrl, install_db: DatabaseUrl | None, force: bool = False, keep: bool = True
) -> list[Restored]:
    """A backup onto one database, or a backup set onto a galaxy database and its install database.

    ``keep``: each replaced database is kept (``restore``'s safety copy); False keeps nothing.
    """
    try:
        return _restore_selection(backup, db, install_db, force, keep)
    except PartlyRestored:
        raise
    except RunbookError as error:  # as restore() says it: a refusal before anything is touched changed nothing
        raise error if UNCHANGED in str(error) else type(error)(f"{error}; {UNCHANGED}") from None


def _restore_selection(
    backup, db: DatabaseUrl, install_db: DatabaseUrl | None, force: bool, keep: bool
) -> list[Restored]:
    path = checked_backup_file(backup)
    document = read_set(path)
    if install_db is None:
        if document is not None:
            raise UsageError(
                f"{path} is the galaxy half of a backup set with the install database "
                f"{document['install']['database']}: name both (--galaxy-root, or --db and --install-db); "
                "nothing was changed"
            )
        return [restore(path, db, force=force, keep=keep)]
    if document is None:
        raise UsageError(
            f"{path} is a backup of one database, but {db} has a separate install database {install_db}: restore "
            "from a backup set that names both (upgrade and downgrade make one), or each database alone with "
            "--db URL; nothing was changed"
        )
    install_backup = _checked_half(path, document, db, install_db, force)
    return _restore_both(path, install_backup, db, install_db, force, keep)


def _checked_half(path: Path, document: dict, db: DatabaseUrl, install_db: DatabaseUrl, force: bool) -> Path:
    for part, target in (("galaxy", db), ("install", install_db)):
        if document[part]["source"] != identity(target) and not force:
            raise UsageError(
                f"the backup set {set_path(path)} was made of the {part} database {document[part]['database']}, "
                f"not {target}: choose this pair's backup set (or --force); nothing was changed"
            )
    install_backup = checked_backup_file(path.with_name(document["install"]["file"]))
    for half, target in ((path, db), (install_backup, install_db)):  # both halves whole, before either is touched
        manifest = read_manifest(half)
        if manifest is not None:
            check_against(manifest, half, target, force)
    return install_backup


def _restore_both(
    path: Path, install_backup: Path, db: DatabaseUrl, install_db: DatabaseUrl, force: bool, keep: bool
) -> list[Restored]:
    """The install database first (it is checked whole before it is touched), then the galaxy database."""
    done = [restore(install_backup, install_db, force=force, keep=keep)]
    try:
        done.append(restore(path, db, force=force, keep=keep))
    except RunbookError as error:
        why = str(error).replace(f"; {UNCHANGED}", "")
        raise PartlyRestored(
            f"the install database {install_db} was restored from {install_backup}, but the galaxy database {db} "
            f"was not (it is as it was): {why}"
        ) from None
    return done
