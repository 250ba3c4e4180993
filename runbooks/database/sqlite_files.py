"""SQLite files as the operating system sees them, looked at before SQLite opens them.

Opening a FIFO blocks until a writer appears, so a path is classified with ``stat`` (which
never opens it) and anything but a regular file is refused. A file another process holds an
EXCLUSIVE lock on, or one with a hot rollback journal (a writer crashed mid-transaction), cannot
be read read-only: SQLite answers "database is locked" or "attempt to write a readonly
database". Both are recognised here with ``F_GETLK`` and the journal's header, without taking
a lock or touching the journal.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import struct
import time
from pathlib import Path

from runbooks.errors import UsageError

KINDS = {
    stat.S_IFIFO: "FIFO (named pipe)",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}
SHOWN_PATH = 120
# SQLite's lock bytes (os_unix.c): PENDING, RESERVED, then 510 SHARED bytes.
PENDING_BYTE = 0x40000000
RESERVED_BYTE = PENDING_BYTE + 1
SHARED_FIRST = PENDING_BYTE + 2
SHARED_SIZE = 510
_FLOCK = "hhqqi"  # struct flock: l_type, l_whence, l_start, l_len, l_pid


def shown(path: str | os.PathLike) -> str:
    text = os.fsdecode(path)
    return text if len(text) <= SHOWN_PATH else text[: SHOWN_PATH - 20] + "…" + text[-19:]


def file_kind(path: str | os.PathLike) -> str:
    """'missing', 'file', 'directory', or the special kind; a path the system rejects is one clear line."""
    if "\0" in os.fsdecode(path):
        raise UsageError(f"the path {shown(path)!r} contains a NUL byte: no file can have that name")
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise UsageError(
                f"the path {shown(path)} is too long for this system (a name at most 255 bytes): give a shorter one"
            ) from None
        problem = f"cannot look at {shown(path)} ({error.strerror})"
        raise UsageError(f"{problem}: check the path and its permissions") from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    return KINDS.get(stat.S_IFMT(mode), "special file")


def checked_sqlite_path(name: str) -> Path:
    """The absolute path of a SQLite database: a regular file or missing, never a special file."""
    try:
        expanded = Path(name).expanduser()
    except RuntimeError:  # ~user of a user this system does not have
        raise UsageError(f"cannot expand the ~ in {shown(name)}: no such user; give an absolute path") from None
    kind = file_kind(expanded)
    path = expanded.resolve()
    if kind == "directory":
        raise UsageError(f"{shown(path)} is a directory, not a SQLite database file: give the path of the .sqlite file")
    if kind not in ("file", "missing"):
        raise UsageError(
            f"{shown(path)} is a {kind}, not a SQLite database file: it was not opened; "
            "give the path of the .sqlite file"
        )
    return path


# -- what another process is doing to the file ---------------------------------------


def lock_holder(fd: int, start: int, length: int, kind: int = fcntl.F_WRLCK) -> int | None:
    """The pid of a process whose lock conflicts with taking ``kind`` on the bytes; None if free."""
    request = struct.pack(_FLOCK, kind, os.SEEK_SET, start, length, 0)
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    l_type, _, _, _, pid = struct.unpack(_FLOCK, answer[: struct.calcsize(_FLOCK)])
    return None if l_type == fcntl.F_UNLCK else pid


def _probe(path: Path, start: int, length: int, kind: int = fcntl.F_RDLCK) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        problem = f"cannot read {shown(path)} ({error.strerror})"
        raise UsageError(f"{problem}: run as the user Galaxy runs as, or check the file's permissions") from None
    try:
        return lock_holder(fd, start, length, kind)
    finally:
        os.close(fd)


def exclusive_holder(path: Path, wait_s: float = 0.0) -> int | None:
    """The pid holding a PENDING or EXCLUSIVE lock (one that keeps every reader out), if any.

    A commit holds one for milliseconds: with ``wait_s``, only a lock still held after that
    long counts, as SQLite's own busy timeout would wait for it.
    """
    deadline = time.monotonic() + wait_s
    pid = _exclusive_pid(path)
    while pid is not None and time.monotonic() < deadline:
        time.sleep(0.05)
        pid = _exclusive_pid(path)
    return pid


def _exclusive_pid(path: Path) -> int | None:
    for start, length in ((PENDING_BYTE, 1), (SHARED_FIRST, SHARED_SIZE)):
        pid = _probe(path, start, length)
        if pid is not None:
            return pid
    return None


def hot_journal(path: Path) -> Path | None:
    """The rollback journal a crashed writer left (non-empty, header written, no writer alive), if any."""
    journal = Path(f"{path}-journal")
    try:
        with open(journal, "rb") as handle:
            first = handle.read(1)
    except OSError:
        return None
    if first in (b"", b"\0"):
        return None
    return None if _probe(path, RESERVED_BYTE, 1, fcntl.F_WRLCK) else journal


def process_command(pid: int) -> str:
    """A process's command line (unmasked: mask it before showing it), or '' when it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())[:100]
