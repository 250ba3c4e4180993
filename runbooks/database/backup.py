"""Backups before a change, and restore in one command.

SQLite: the online backup API into a timestamped file (consistent even while readers
are connected). PostgreSQL: ``pg_dump -Fc``; restore recreates the database and runs
``pg_restore``. The password travels in ``PGPASSWORD``, never on a command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.connections import recreate_postgresql_database
from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.errors import RunbookError, UsageError
from runbooks.paths import runbook_home


@dataclass(frozen=True)
class Backup:
    path: Path
    database: DatabaseUrl
    seconds: float

    def restore_command(self) -> str:
        return f"python -m runbooks restore {self.path} --db '{self.database.masked()}' --yes"


def backups_dir() -> Path:
    return runbook_home() / "backups"


def _backup_path(db: DatabaseUrl, folder: Path | None, suffix: str) -> Path:
    stem = db.sqlite_path.stem if db.is_sqlite else db.database_name
    folder = Path(folder) if folder else backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{suffix}"


def make_backup(db: DatabaseUrl, folder: Path | None = None) -> Backup:
    started = time.monotonic()
    if db.is_sqlite:
        target = _backup_path(db, folder, ".sqlite")
        copy_sqlite(db.sqlite_path, target)
    else:
        target = _backup_path(db, folder, ".dump")
        # Never queue behind a lock (an ALTER waiting on a table would make pg_dump wait too).
        _run_pg_tool("pg_dump", db, ["-Fc", "--lock-wait-timeout=30000", "-f", str(target), "-d", db.database_name])
    return Backup(target, db, time.monotonic() - started)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the source is opened read-only)."""
    src = sqlite3.connect(f"{Path(source).as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def restore(backup_path: Path, db: DatabaseUrl) -> None:
    """Put the database back exactly as the backup has it."""
    backup_path = Path(backup_path)
    if not backup_path.is_file():
        raise UsageError(f"no backup file {backup_path}: list them in {backups_dir()}")
    if db.is_sqlite:
        _check_sqlite_backup(backup_path)
        db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        copy_sqlite(backup_path, db.sqlite_path)
        for leftover in (Path(f"{db.sqlite_path}-journal"), Path(f"{db.sqlite_path}-wal")):
            leftover.unlink(missing_ok=True)
        return
    recreate_postgresql_database(db)
    _run_pg_tool("pg_restore", db, ["--no-owner", "--exit-on-error", "-d", db.database_name, str(backup_path)])


def load_sql_file(path: Path, db: DatabaseUrl) -> None:
    """Run a plain-SQL dump (``pg_dump`` without ``-Fc``) into the existing PostgreSQL database ``db``."""
    _run_pg_tool("psql", db, ["-q", "-v", "ON_ERROR_STOP=1", "-d", db.database_name, "-f", str(path)])


def _check_sqlite_backup(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.close()
    except sqlite3.DatabaseError as error:
        raise UsageError(f"{path} is not a SQLite backup ({error})") from None


def _run_pg_tool(tool: str, db: DatabaseUrl, arguments: list[str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise RunbookError(f"{tool} is not installed: install postgresql-client, or pass --no-backup at your own risk")
    url = db.url
    command = [executable, "-h", url.host or "localhost", "-p", str(url.port or 5432)]
    command += ["-U", url.username] if url.username else []
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    result = subprocess.run(command + arguments, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = mask_text(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "", url.password)
        raise RunbookError(f"{tool} failed for {db}: {detail}")
