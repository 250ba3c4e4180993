"""Backups before a change: whole or absent, each with a manifest beside it.

SQLite: the online backup API (consistent even while readers are connected). PostgreSQL:
``pg_dump -Fc``. Either is written under a temporary name in the backup folder, fsynced and
checked (SQLite ``quick_check``; ``pg_restore --list``), and only then renamed to its final
name, so a full disk, a read-only folder or a lock timeout leaves no file behind. Names come
from a sanitised database name and always stay inside the backup folder. The password
travels in ``PGPASSWORD``, never on a command line. Restoring is ``runbooks.database.restore``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.connections import inspect_database, recreate_postgresql_database
from runbooks.database.manifest import make_manifest, manifest_path, write_synced
from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.errors import Refused, RunbookError
from runbooks.lifetime import dies_with_us
from runbooks.paths import runbook_home

BUSY_TIMEOUT_S = 5.0
_SQLITE_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED as the backup progress callback reports them


@dataclass(frozen=True)
class Backup:
    path: Path
    database: DatabaseUrl
    seconds: float

    @property
    def manifest(self) -> Path:
        return manifest_path(self.path)


def backups_dir() -> Path:
    return runbook_home() / "backups"


def backup_stem(db: DatabaseUrl) -> str:
    """The database's name with nothing a path or a shell would interpret."""
    name = db.sqlite_path.stem if db.is_sqlite else db.database_name
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")[:60] or "database"


def make_backup(db: DatabaseUrl, folder: Path | None = None) -> Backup:
    started = time.monotonic()
    folder = Path(folder) if folder else backups_dir()
    suffix = ".sqlite" if db.is_sqlite else ".dump"
    final = _free_name(folder, f"{backup_stem(db)}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}", suffix)
    partial = folder / f".{final.name}.partial"
    partial_manifest = folder / f".{final.name}.manifest.partial"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial.touch(exist_ok=False)  # a read-only folder fails here, with its real reason (not SQLite's)
        rows = _write_sqlite(db, partial) if db.is_sqlite else _write_dump(db, partial)
        manifest = make_manifest(partial, db, rows) | {"file": final.name}
        write_synced(partial_manifest, json.dumps(manifest, indent=2).encode())
        os.replace(partial, final)
        os.replace(partial_manifest, manifest_path(final))
        _fsync(folder)
    except BaseException as error:  # interrupted too: never leave a partial or unmanifested backup
        journals = (Path(f"{partial}-journal"), Path(f"{partial}-wal"))
        for path in (partial, *journals, partial_manifest, final, manifest_path(final)):
            _remove_quietly(path)
        if isinstance(error, (OSError, sqlite3.Error, RunbookError)):
            raise _backup_failed(db, folder, error) from None
        raise
    return Backup(final, db, time.monotonic() - started)


def _free_name(folder: Path, name: str, suffix: str) -> Path:
    """A name no backup in ``folder`` has: a second backup in the same second gets ``-2``, and so on."""
    for number in range(1, 1000):
        final = folder / (name + (f"-{number}" if number > 1 else "") + suffix)
        if not any(path.exists() for path in (final, manifest_path(final), folder / f".{final.name}.partial")):
            return final
    raise RunbookError(f"{folder} already holds 999 backups named {name}: remove old ones")


def _write_sqlite(db: DatabaseUrl, partial: Path) -> tuple[str, ...] | None:
    copy_sqlite(db.sqlite_path, partial)
    _fsync(partial)
    check = sqlite3.connect(f"{partial.resolve().as_uri()}?mode=ro", uri=True)
    try:
        verdict = check.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        check.close()
    if verdict != "ok":
        raise RunbookError(f"the copy failed its check ({verdict})")
    return inspect_database(DatabaseUrl.parse(f"sqlite:///{partial.resolve()}")).alembic_rows


def _write_dump(db: DatabaseUrl, partial: Path) -> tuple[str, ...] | None:
    rows = inspect_database(db).alembic_rows
    # Never queue behind a lock (an ALTER waiting on a table would make pg_dump wait too).
    run_pg_tool("pg_dump", db, ["-Fc", "--lock-wait-timeout=30000", "-f", str(partial), "-d", dbname(db)])
    _fsync(partial)
    run_pg_tool("pg_restore", db, ["--list", str(partial)])
    return rows


def _backup_failed(db: DatabaseUrl, folder: Path, error: BaseException) -> RunbookError:
    kind = Refused if isinstance(error, Refused) else RunbookError
    return kind(f"the backup of {db} into {folder} failed ({why(error)}): no backup was left and nothing was changed")


def why(error: BaseException) -> str:
    """A failure in the words a user acts on: full disk, read-only folder, or the tool's own line."""
    code = getattr(error, "errno", None)
    text = str(error)
    if code == errno.ENOSPC or "disk is full" in text or "No space left" in text:
        return "no space left on the device"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "Read-only file system" in text or "readonly" in text:
        return f"the folder is read-only or not writable: {getattr(error, 'strerror', None) or text}"
    return getattr(error, "strerror", None) or text


def copy_sqlite(source: Path, target: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
    """A consistent copy through SQLite's backup API (the source is opened read-only)."""
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout_s)
    try:
        dst = sqlite3.connect(target, timeout=busy_timeout_s)
        try:
            backup_pages(src, dst, busy_timeout_s)
        finally:
            dst.close()
    finally:
        src.close()


class Busy(sqlite3.OperationalError):
    """Another process kept the lock the copy needs for longer than the busy timeout."""


def backup_pages(src: sqlite3.Connection, dst: sqlite3.Connection, busy_timeout_s: float) -> None:
    """``src.backup(dst)``, but giving up after ``busy_timeout_s`` behind a lock (Python's loop never does)."""
    deadline = time.monotonic() + busy_timeout_s

    def progress(status: int, remaining: int, total: int) -> None:
        if status in _SQLITE_BUSY and time.monotonic() > deadline:
            raise Busy("database is locked")

    src.backup(dst, progress=progress)


def load_dump(path: Path, db: DatabaseUrl) -> None:
    """``db`` (re-created empty) loaded from a ``pg_dump -Fc`` file: only for databases we own (scratch)."""
    recreate_postgresql_database(db)
    pg_restore_into(path, db)


def pg_restore_into(path: Path, db: DatabaseUrl) -> None:
    run_pg_tool("pg_restore", db, ["--no-owner", "--exit-on-error", "-d", dbname(db), str(path)])


def load_sql_file(path: Path, db: DatabaseUrl) -> None:
    """Run a plain-SQL dump (``pg_dump`` without ``-Fc``) into the existing PostgreSQL database ``db``."""
    run_pg_tool("psql", db, ["-q", "-v", "ON_ERROR_STOP=1", "-d", dbname(db), "-f", str(path)])


def run_pg_tool(tool: str, db: DatabaseUrl, arguments: list[str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise RunbookError(f"{tool} is not installed: install postgresql-client, or pass --no-backup at your own risk")
    url = db.url
    command = [executable, "-h", url.host or "localhost", "-p", str(url.port or 5432)]
    command += ["-U", url.username] if url.username else []
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    result = subprocess.run(command + arguments, env=env, capture_output=True, text=True, preexec_fn=dies_with_us())
    if result.returncode != 0:
        detail = mask_text(failure_reason(result.stderr), url.password)
        raise RunbookError(f"{tool} failed for {db}: {detail}")


def dbname(db: DatabaseUrl) -> str:
    """``-d`` for libpq's tools as a connection string naming only the database: a name with ``=``
    (or starting ``postgresql://``) given bare is read as a connection string of its own."""
    return "dbname='" + db.database_name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def failure_reason(stderr: str) -> str:
    """What a PostgreSQL tool said went wrong: its error lines, not the query it was running."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reasons = [line for line in lines if "detail: Query was" not in line] or lines
    return "; ".join(reasons[:3])


def _fsync(path: Path) -> None:
    """A file's bytes, or a folder's entries (a rename), on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
