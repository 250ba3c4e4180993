"""One migration at a time: an exclusive lock on the database for upgrade, downgrade and restore.

SQLite: ``flock`` on ``DB.runbooks-lock`` beside the file, recording pid, start time and
command. PostgreSQL: ``pg_try_advisory_lock`` on a fixed key and the database's name, held by a
session of its own on the server's ``postgres`` database (so it survives a restore's rename and
never counts as a session on the database itself), its ``application_name`` naming the holder.
Either is released by the kernel or the server when the holding process dies, so a killed run
never leaves a stale lock. Never waits: a second run refuses at once, naming the first. The CLI
process (not the Galaxy worker) holds it for as long as the worker may run. Re-entrant within
one process (a notebook restores the database it has just downgraded).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.advisory_lock import APP_PREFIX, AdvisoryLock, try_lock
from runbooks.database.backup import why
from runbooks.database.manifest import identity
from runbooks.database.sqlite_files import KINDS
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import Refused, RunbookError

LOCK_SUFFIX = ".runbooks-lock"


@dataclass
class _Held:
    release: Callable[[], None]
    depth: int = 1
    lost: Callable[[], str | None] = lambda: None


_HELD: dict[str, _Held] = {}


@dataclass
class MigrationLock:
    """A held lock; ``release()`` once (more calls do nothing)."""

    key: str
    released: bool = False

    @property
    def lost(self) -> str | None:
        """Why the lock is no longer this run's (PostgreSQL: its session was ended and another took it)."""
        held = _HELD.get(self.key)
        return None if held is None or self.released else held.lost()

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        held = _HELD[self.key]
        held.depth -= 1
        if held.depth == 0:
            del _HELD[self.key]
            held.release()


def acquire(db: DatabaseUrl, command: str) -> MigrationLock:
    """The lock for ``command`` (upgrade, downgrade, restore), or ``Refused`` naming who holds it."""
    key = json.dumps(identity(db), sort_keys=True)
    if key in _HELD:
        _HELD[key].depth += 1
    else:
        _HELD[key] = _Held(_lock_sqlite(db, command)) if db.is_sqlite else _lock_postgresql(db, command)
    return MigrationLock(key)


@contextmanager
def migration_lock(db: DatabaseUrl, command: str) -> Iterator[MigrationLock]:
    lock = acquire(db, command)
    try:
        yield lock
    finally:
        lock.release()


def lock_file(db: DatabaseUrl) -> Path:
    return db.sqlite_path.with_name(db.sqlite_path.name + LOCK_SUFFIX)


def _refusal(command: str | None, pid, started, db: DatabaseUrl) -> Refused:
    who = f"another {command or 'migration'}" + (f" (pid {pid}, started {started})" if pid else "")
    return Refused(f"{who} holds this database ({db}): wait for it to end, then run this again; nothing was changed")


def _lock_sqlite(db: DatabaseUrl, command: str) -> Callable[[], None]:
    path = lock_file(db)
    for _ in range(5):
        fd = _open_lock_file(path, command)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_record(fd)
            os.close(fd)
            raise _refusal(holder.get("command"), holder.get("pid"), holder.get("started"), db) from None
        if _is_current(fd, path):  # not a file the previous holder removed as we opened it
            break
        os.close(fd)
    else:
        raise Refused(f"could not take the lock file {path}: another run keeps replacing it; nothing was changed")
    try:
        database_fd = _lock_the_file_itself(db)
    except Refused:
        if _is_current(fd, path):  # the lock file this run made: it leaves nothing behind
            path.unlink()
        os.close(fd)
        raise
    record = {"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "command": command}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)

    def release() -> None:
        try:
            if _is_current(fd, path):
                path.unlink()
        finally:
            os.close(fd)
            if database_fd is not None:
                os.close(database_fd)

    return release


def _lock_the_file_itself(db: DatabaseUrl) -> int | None:
    """An flock on the database file: keyed on its inode, so another name for the same file (a hard
    link, another path) meets it, where the lock file beside each name would not. SQLite's own
    locks are fcntl locks, which flock never touches. None when there is no file yet."""
    try:
        file_fd = os.open(db.sqlite_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(file_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(file_fd)
        raise Refused(
            f"another migration holds this database file under another name (a hard link or another path "
            f"to {db.sqlite_path}): wait for it to end, then run this again; nothing was changed"
        ) from None
    return file_fd


_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK


def _open_lock_file(path: Path, command: str) -> int:
    """The lock file, opened without following a link or blocking on a FIFO, and only if it is ours.

    A link, a special file, a file with other names (hard links) or one another user owns is
    something the tool did not make: it is refused before anything is written to it.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _planted(path, "is a symbolic link") from None
        raise RunbookError(
            f"cannot create the lock file {path} ({why(error)}): {command} needs to write beside the "
            "database; nothing was changed"
        ) from None
    found = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(found.st_mode):
        problem = f"is a {KINDS.get(stat.S_IFMT(found.st_mode), 'special file')}, not a file"
    elif found.st_uid != os.geteuid():
        problem = f"belongs to another user (uid {found.st_uid})"
    elif found.st_nlink != 1:
        problem = f"has {found.st_nlink - 1} other name(s) (hard links)"
    if problem:
        os.close(fd)
        raise _planted(path, problem)
    return fd


def _planted(path: Path, problem: str) -> RunbookError:
    return RunbookError(
        f"the lock file {path} {problem}: this tool did not make it and will not write through it; "
        "look at it, remove it, and run again; nothing was changed"
    )


def _is_current(fd: int, path: Path) -> bool:
    try:
        return os.lstat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _read_record(fd: int) -> dict:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _lock_postgresql(db: DatabaseUrl, command: str) -> _Held:
    conn, holder = try_lock(db, command)
    if conn is not None:
        lock = AdvisoryLock(db, command, conn)
        return _Held(lock.release, lost=lambda: lock.lost)
    application, started = holder
    words = application.split()
    pid = words[3] if len(words) >= 4 and words[0] == APP_PREFIX else None
    raise _refusal(words[1] if pid else None, pid, started, db)
