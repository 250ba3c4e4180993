"""What a killed rehearsal, proof or restore leaves behind, recognised by its owner's host and pid.

Scratch databases are named ``rb_scratch_HOST_PID_...`` and scratch folders
``runbooks-scratch-HOST_PID-...`` (HOST: four hex digits of this machine's name). One whose
owner is on this machine and no longer running is a leftover: the next rehearsal removes it
(``remove_leftovers``), ``troubleshoot`` reports it (``find_leftovers``, which changes nothing).
A PostgreSQL leftover is dropped without FORCE, so one somebody is connected to stays.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.connections import read_only_cursor, run_admin_sql
from runbooks.database.urls import DatabaseUrl, quoted
from runbooks.errors import RunbookError

PG_PREFIX = "rb_scratch"
SQLITE_PREFIX = "runbooks-scratch-"
_OWNED = re.compile(r"^(?:rb_scratch_|runbooks-scratch-)([0-9a-f]{4})_(\d+)[-_]")


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFF:04x}"


def owner_tag() -> str:
    """This process as a scratch name's owner: HOST_PID."""
    return f"{_host_tag()}_{os.getpid()}"


@dataclass(frozen=True)
class Leftover:
    kind: str  # "PostgreSQL database" or "folder"
    name: str
    pid: int

    def describe(self) -> str:
        return f"{self.kind} {self.name} (left by pid {self.pid}, which has ended)"


def _dead_owner(name: str) -> int | None:
    """The owner's pid when ``name`` is a scratch name of this machine whose owner has ended."""
    found = _OWNED.match(name)
    if not found or found.group(1) != _host_tag():
        return None
    pid = int(found.group(2))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return pid
    except PermissionError:
        return None
    return None


def find_leftovers(db: DatabaseUrl | None = None) -> list[Leftover]:
    """Leftover scratch folders, and scratch databases on ``db``'s PostgreSQL server."""
    found = []
    for folder in Path(tempfile.gettempdir()).glob(f"{SQLITE_PREFIX}*"):
        pid = _dead_owner(folder.name)
        if pid is not None and folder.is_dir():
            found.append(Leftover("folder", str(folder), pid))
    if db is not None and not db.is_sqlite:
        found += [Leftover("PostgreSQL database", name, pid) for name, pid in _pg_leftovers(db)]
    return found


def _pg_leftovers(db: DatabaseUrl) -> list[tuple[str, int]]:
    try:
        with read_only_cursor(db.with_database("postgres"), "galaxy-runbooks-leftovers") as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (f"{PG_PREFIX}_",))
            names = [row[0] for row in cursor.fetchall()]
    except RunbookError:
        return []  # no access to the server's list: nothing we can report or remove
    owners = [(name, _dead_owner(name)) for name in names]
    return [(name, pid) for name, pid in owners if pid is not None]


def remove_leftovers(db: DatabaseUrl | None = None) -> list[Leftover]:
    """Remove what ``find_leftovers`` finds; returns what was removed."""
    removed = []
    for leftover in find_leftovers(db):
        try:
            if leftover.kind == "folder":
                shutil.rmtree(leftover.name)
            else:
                run_admin_sql(db, f"DROP DATABASE IF EXISTS {quoted(leftover.name)}")
            removed.append(leftover)
        except Exception:  # noqa: BLE001 - in use or not ours to drop: it stays
            continue
    return removed
