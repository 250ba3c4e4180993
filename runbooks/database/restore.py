"""Restore: the backup is read whole and checked first, then swapped in; a failure changes nothing.

Checked first: a regular, non-empty file of the target's kind (a SQLite database for SQLite, a
``pg_dump -Fc`` archive for PostgreSQL), whole (its manifest's size and checksum), a backup of
this database (the manifest's source; ``force`` overrides), and a Galaxy database with a version
table (``force`` overrides). All under the migration lock, after the same pre-flight as an upgrade.

SQLite: opened read-only and integrity-checked, then copied through the backup API *into* the
live file (one transaction: journal and WAL stay consistent, a failure rolls back); never by
replacing or deleting files. A reader or writer on the file is named at once; a busy timeout
means the copy never waits forever. PostgreSQL: restored into a new scratch database and checked
there, then swapped in by renaming (both renames in one transaction); the old database is
dropped only after that.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.database.backup import (
    BUSY_TIMEOUT_S,
    Busy,
    backup_pages,
    backups_dir,
    make_backup,
    pg_restore_into,
    run_pg_tool,
    why,
)
from runbooks.database.connections import DatabaseSnapshot, inspect_database, run_admin_sql
from runbooks.database.database_meta import DatabaseMeta, put_back, read_meta
from runbooks.database.manifest import check_against, identity, read_manifest
from runbooks.database.migration_lock import migration_lock
from runbooks.database.scratch import scratch_database
from runbooks.database.sessions import postgresql_sessions, sqlite_locks
from runbooks.database.urls import DatabaseUrl, mask_text, quoted
from runbooks.errors import DatabaseMissing, Refused, RunbookError, UsageError

UNCHANGED = "nothing was changed"


@dataclass
class RestoreProgress:
    """How far a restore got, for the line an interrupt prints: checking, replacing (one transaction), replaced."""

    stage: str = "checking"


_PROGRESS: ContextVar[RestoreProgress | None] = ContextVar("restore_progress", default=None)


@contextmanager
def restore_progress() -> Iterator[RestoreProgress]:
    """The restores run inside report how far they got here (the CLI's line after Ctrl-C)."""
    progress = RestoreProgress()
    token = _PROGRESS.set(progress)
    try:
        yield progress
    finally:
        _PROGRESS.reset(token)


def _reached(stage: str) -> None:
    progress = _PROGRESS.get()
    if progress is not None:
        progress.stage = stage


SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


@dataclass
class Restored:
    database: DatabaseUrl
    backup: Path
    rows: tuple[str, ...] | None
    notes: list[str] = field(default_factory=list)
    kept: str | None = None  # what it replaced: a backup file (SQLite) or a database's name (PostgreSQL)

    def text(self) -> str:
        rows = ", ".join(self.rows) if self.rows else "(no alembic_version rows)"
        lines = [f"Restored {self.database} from {self.backup}; alembic_version read back: {rows}"]
        if self.kept and self.database.is_sqlite:
            lines.append(
                f"The database as it was before is kept in {self.kept} (with its manifest): remove it when done"
            )
        elif self.kept:
            lines.append(
                f"The database as it was before is kept as {self.kept} on the same server: "
                f'DROP DATABASE "{self.kept}" when you no longer need it'
            )
        return "\n".join(lines + [f"Note: {note}" for note in self.notes])


def restore(backup: Path | str, db: DatabaseUrl, *, force: bool = False, keep: bool = True) -> Restored:
    """Put ``db`` back as ``backup`` has it, or raise leaving ``db`` exactly as it was.

    ``keep``: what is replaced is kept (a backup file, or the old database renamed) and named.
    """
    notes: list[str] = []
    try:
        path = checked_backup_file(backup)
        _check_kind(path, db)  # first: --force cannot make one dialect's backup restore onto the other
        _check_manifest(path, db, force, notes)
        _refuse_foreign_target(path, db, force)
        with migration_lock(db, "restore"):
            if db.is_sqlite:
                kept = _restore_sqlite(path, db, force, notes, keep)
            else:
                kept = _restore_postgresql(path, db, force, notes, keep)
    except RunbookError as error:
        raise error if UNCHANGED in str(error) else type(error)(f"{error}; {UNCHANGED}") from None
    return Restored(db, path, inspect_database(db).alembic_rows, notes, kept)


def _refuse_foreign_target(path: Path, db: DatabaseUrl, force: bool) -> None:
    """A target that is not a Galaxy database is replaced only when its own backup or ``force`` says so."""
    manifest = read_manifest(path)
    if force or (manifest is not None and manifest.get("source") == identity(db)):
        return
    target = inspect_database(db)
    if not target.exists or target.is_empty or target.alembic_rows is not None or target.migrate_version is not None:
        return
    raise UsageError(
        f"{db} is not a Galaxy database (no alembic_version or migrate_version table) and {path.name} does not say "
        "it is a backup of it: a restore would replace it whole; check --db, or pass --force to replace it anyway"
    )


def checked_backup_file(backup: Path | str) -> Path:
    """The backup as an absolute path to a regular, non-empty file (a FIFO is never opened)."""
    path = Path(backup).expanduser().resolve()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"no backup file {path}: list them in {backups_dir()}") from None
    except OSError as error:
        raise UsageError(f"cannot read {path} ({error.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path} is a directory: give a backup file (list them in {backups_dir()})")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path} is a {_special_kind(info.st_mode)}, not a backup file: give a backup file")
    if info.st_size == 0:
        raise UsageError(f"{path} is empty (0 bytes; a failed backup leaves such files): choose a whole backup")
    return path


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _check_manifest(path: Path, db: DatabaseUrl, force: bool, notes: list[str]) -> None:
    manifest = read_manifest(path)
    if manifest is None:
        notes.append("no manifest beside the backup: whether it is a backup of this database was not checked")
        return
    check_against(manifest, path, db, force)
    if manifest.get("source") != identity(db):
        notes.append(f"forced: the backup is of {manifest.get('database')}")


def _check_kind(path: Path, db: DatabaseUrl) -> None:
    with open(path, "rb") as stream:
        head = stream.read(len(SQLITE_MAGIC))
    if db.is_sqlite and not head.startswith(SQLITE_MAGIC):
        what = "a pg_dump archive" if head.startswith(PGDUMP_MAGIC) else "not a SQLite database"
        raise UsageError(
            f"{path} is {what}: a SQLite database is restored from a SQLite backup file: "
            f"choose one of this database's backups (in {backups_dir()})"
        )
    if not db.is_sqlite and not head.startswith(PGDUMP_MAGIC):
        what = "a SQLite database file" if head.startswith(SQLITE_MAGIC) else "not a pg_dump -Fc archive"
        raise UsageError(
            f"{path} is {what}: a PostgreSQL database is restored from a pg_dump -Fc backup: "
            f"choose one of this database's backups (in {backups_dir()})"
        )


def _check_galaxy(snapshot: DatabaseSnapshot, path: Path, force: bool, notes: list[str]) -> None:
    """A Galaxy database with a version table, or ``force`` (stated in the notes)."""
    if snapshot.alembic_rows or snapshot.migrate_version is not None:
        return
    if snapshot.is_empty:
        what = "an empty database"
    elif snapshot.alembic_rows is None:
        what = "not a Galaxy database (no alembic_version or migrate_version table)"
    else:
        what = "a database with an empty alembic_version"
    if not force:
        raise UsageError(f"{path} is {what}: pass --force to restore it anyway")
    notes.append(f"forced: the backup is {what}")


# -- SQLite ---------------------------------------------------------------------------


def _restore_sqlite(path: Path, db: DatabaseUrl, force: bool, notes: list[str], keep: bool = True) -> str | None:
    source = DatabaseUrl.parse(f"sqlite:///{path}")
    _integrity_check(path)
    _check_galaxy(inspect_database(source), path, force, notes)
    target = db.sqlite_path
    existed = target.exists()
    if existed and not stat.S_ISREG(target.stat().st_mode):
        raise UsageError(f"{target} is not a regular file: restore onto a SQLite database file")
    _refuse_sqlite_holders(target, existed)
    kept = _keep_sqlite(db) if keep and existed else None  # before anything is written
    _reached("replacing")
    src = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(f"{target.as_uri()}?mode={'rw' if existed else 'rwc'}", uri=True, timeout=1.0)
        try:
            backup_pages(src, dst, BUSY_TIMEOUT_S)
            _reached("replaced")
        finally:
            dst.close()
    except Busy:
        _refuse_sqlite_holders(target, existed)
        raise Refused(f"{target} stayed locked by another process for {BUSY_TIMEOUT_S:.0f}s") from None
    except sqlite3.Error as error:
        if not existed:
            target.unlink(missing_ok=True)
        raise RunbookError(f"could not write {target} ({why(error)})") from None
    finally:
        src.close()
    return kept


def _keep_sqlite(db: DatabaseUrl) -> str:
    """A backup (with its manifest) of the database about to be replaced; a damaged one is copied as it is."""
    try:
        return str(make_backup(db).path)
    except Refused:
        raise
    except RunbookError as error:
        if not _unreadable(db):
            raise RunbookError(f"{error}: a restore first keeps a copy of what it replaces") from None
    folder = backups_dir()
    kept = folder / f"{db.sqlite_path.stem}-as-it-was-{time.strftime('%Y%m%d-%H%M%S')}.sqlite"
    try:
        for suffix in ("", "-wal"):
            if Path(f"{db.sqlite_path}{suffix}").exists():
                shutil.copyfile(f"{db.sqlite_path}{suffix}", f"{kept}{suffix}")
    except OSError as error:
        raise RunbookError(f"could not keep a copy of {db} in {folder} ({why(error)}): free space first") from None
    return str(kept)


def _unreadable(db: DatabaseUrl) -> bool:
    try:
        return inspect_database(db).damage is not None
    except RunbookError:
        return True


def _integrity_check(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise UsageError(f"{path} is not a readable SQLite database ({error})") from None
    if verdict != "ok":
        raise UsageError(f"{path} fails SQLite's integrity check ({verdict}): choose another backup")


def _refuse_sqlite_holders(target: Path, existed: bool) -> None:
    holders = sqlite_locks(target) if existed else []
    if holders:
        raise Refused(
            f"{target} is in use: {'; '.join(lock.describe() for lock in holders)}. "
            "Stop that process (a running Galaxy, a sqlite3 shell?), then restore again"
        )


# -- PostgreSQL ------------------------------------------------------------------------


def _restore_postgresql(path: Path, db: DatabaseUrl, force: bool, notes: list[str], keep: bool = True) -> str | None:
    try:
        run_pg_tool("pg_restore", db, ["--list", str(path)])
    except RunbookError as error:
        raise UsageError(f"{path} is not a whole pg_dump archive ({error})") from None
    exists = _refuse_postgresql_sessions(db)
    swapped = False
    try:
        with scratch_database(db, create=True, name="restore") as new, scratch_database(db, name="replaced") as old:
            try:
                pg_restore_into(path, new.db)
            except RunbookError as error:
                raise UsageError(f"{path} could not be restored whole ({error})") from None
            _check_galaxy(inspect_database(new.db), path, force, notes)
            _put_back_meta(path, db if exists else None, new.db, notes)
            _reached("replacing")
            _swap(db, new.db, old.db if exists else None)
            swapped = True
            _reached("replaced")
            return _keep_replaced(old.db, db, notes) if keep and exists else None
    except Exception as error:  # noqa: BLE001 - after the swap only dropping the old database failed
        if not swapped:
            raise
        notes.append(f"the replaced database could not be dropped ({mask_text(str(error), db.password)})")
    return None


def _keep_replaced(old: DatabaseUrl, db: DatabaseUrl, notes: list[str]) -> str | None:
    """The replaced database under a name of its own (not a scratch name: nothing cleans it up)."""
    name = f"{db.database_name[:36]}_before_restore_{time.strftime('%Y%m%d_%H%M%S')}"
    try:
        run_admin_sql(db, f"ALTER DATABASE {quoted(old.database_name)} RENAME TO {quoted(name)}")
    except Exception as error:  # noqa: BLE001 - the restore itself is done: say what was not kept
        notes.append(f"the replaced database could not be kept ({mask_text(str(error), db.password)}); it was dropped")
        return None
    return name


def _put_back_meta(path: Path, replaced: DatabaseUrl | None, new: DatabaseUrl, notes: list[str]) -> None:
    """The owner, privileges, settings and table owners the backup recorded (else the replaced database's)."""
    recorded = (read_manifest(path) or {}).get("database_meta")
    if recorded:
        meta = DatabaseMeta.from_json(recorded)
    elif replaced is not None:
        meta = read_meta(replaced)
        notes.append(
            "the backup records no owner, privileges or settings (no manifest, or an older one): "
            "those of the database it replaced were kept"
        )
    else:
        notes.append("the backup records no owner, privileges or settings: the database has the defaults")
        return
    for failed in put_back(meta, new):
        notes.append(f"not put back: {mask_text(failed)}")


def _refuse_postgresql_sessions(db: DatabaseUrl) -> bool:
    """Whether ``db`` exists; refuses while anyone else is connected to it (a rename needs it alone)."""
    try:
        sessions = postgresql_sessions(db)
    except DatabaseMissing:
        return False
    if sessions:
        raise Refused(
            f"other sessions use {db.database_name}: {'; '.join(s.describe() for s in sessions)}. "
            "A restore replaces the whole database: stop Galaxy (and any psql), then restore again"
        )
    return True


def _swap(db: DatabaseUrl, new: DatabaseUrl, old: DatabaseUrl | None) -> None:
    """``new`` takes ``db``'s name and ``db`` becomes ``old``, in one transaction."""
    import psycopg2

    rename_new = f"ALTER DATABASE {quoted(new.database_name)} RENAME TO {quoted(db.database_name)}"
    rename_old = f"ALTER DATABASE {quoted(db.database_name)} RENAME TO {quoted(old.database_name)}; " if old else ""
    try:
        run_admin_sql(db, rename_old + rename_new)
    except psycopg2.Error as error:
        first = mask_text(str(error), db.password).strip().splitlines()[0]
        raise Refused(f"could not swap the restored database in ({first})") from None
