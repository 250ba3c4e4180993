"""SIGINT and SIGTERM in the CLI: stop the migration, wait for the worker, say where the database truly stands.

Both signals raise ``Interrupted`` (a ``KeyboardInterrupt``) in the main thread. An
interrupted Galaxy request stops its worker server, which kills and reaps the child running
the migration (``runbooks.galaxy.client``). Only then is ``alembic_version`` read back, and
one line says what it holds, with the backup and the command that restores it. The exit
code is the shell's for the signal: 130 (SIGINT), 143 (SIGTERM).
"""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runbooks.cli.render import restore_command
from runbooks.database.connections import CONNECT_TIMEOUT_S, inspect_database
from runbooks.tasks.printed_commands import command_line

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.report = f"interrupted by {signal.Signals(signum).name}"

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum, frame) -> None:
    raise Interrupted(signum)


def install() -> None:
    for signum in HANDLED:
        signal.signal(signum, _raise)


def as_interrupted(error: KeyboardInterrupt) -> Interrupted:
    return error if isinstance(error, Interrupted) else Interrupted(signal.SIGINT)


def stop_workers() -> None:
    """Stop every Galaxy worker this process started and wait for them (a no-op if none)."""
    import sys

    client = sys.modules.get("runbooks.galaxy.client")
    if client is not None:
        client.stop_all()


@contextmanager
def reported(change) -> Iterator[None]:
    """Around the backup and the migration: on a signal, stop, read back, and say so in one line."""
    try:
        yield
    except KeyboardInterrupt as error:
        interrupted = as_interrupted(error)
        for signum in HANDLED:  # a second Ctrl-C must not cut the read-back short
            signal.signal(signum, signal.SIG_IGN)
        stop_workers()
        interrupted.report = where_it_stands(change, interrupted)
        raise interrupted from None


def roll_back_hot_journal(db) -> None:
    """The migration just killed may have left SQLite's rollback journal: the next read-write
    open rolls it back (what Galaxy's next start would do), so the read-back sees the truth."""
    if db.is_sqlite and Path(f"{db.sqlite_path}-journal").exists():
        connection = sqlite3.connect(db.sqlite_path, timeout=CONNECT_TIMEOUT_S)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()


def rows_or_none(db) -> tuple[str, ...] | None:
    """alembic_version before a restore, for the line an interrupt prints (None when it cannot be read)."""
    try:
        return tuple(inspect_database(db).alembic_rows or ())
    except Exception:  # noqa: BLE001 - the restore itself says what is wrong with the database
        return None


def restore_interrupted(error: KeyboardInterrupt, db, stage: str, before: tuple[str, ...] | None) -> Interrupted:
    """The interrupt of a restore, its line saying whether the backup had replaced the database (read back)."""
    interrupted = as_interrupted(error)
    for signum in HANDLED:  # a second Ctrl-C must not cut the read-back short
        signal.signal(signum, signal.SIG_IGN)
    line = f"interrupted by {signal.Signals(interrupted.signum).name} during the restore"
    try:
        roll_back_hot_journal(db)
        rows = tuple(inspect_database(db).alembic_rows or ())
    except Exception as failure:  # noqa: BLE001 - an unreachable database must not hide the rest of the line
        interrupted.report = f"{line}; alembic_version could not be read back ({failure})"
        return interrupted
    shown = ", ".join(rows) or "empty"
    if stage == "checking":
        interrupted.report = f"{line}, before it wrote anything: the database was not changed (alembic_version {shown})"
    elif stage == "replaced":
        interrupted.report = f"{line}, after the backup had replaced the database: alembic_version now {shown}"
    else:  # one transaction: rolled back unless it had committed
        was = "unchanged" if before is not None and set(rows) == set(before) else "changed"
        interrupted.report = f"{line}, while the backup was put in place: alembic_version now {shown} ({was})"
    return interrupted


def where_it_stands(change, interrupted: Interrupted) -> str:
    """One line: interrupted; alembic_version as read back now; the backup and its restore command."""
    line = f"interrupted by {signal.Signals(interrupted.signum).name}"
    try:
        roll_back_hot_journal(change.selection.db)
        rows = tuple(inspect_database(change.selection.db).alembic_rows or ())
    except Exception as error:  # an unreachable database must not hide the rest of the line
        rows = None
        status = command_line("status", database=change.selection.database_args)
        line += f"; alembic_version could not be read back ({error}): run `{status}`"
    if rows is not None:
        before = tuple(change.before.rows)
        moved = "unchanged" if set(rows) == set(before) else f"was {', '.join(before) or 'empty'}"
        line += f"; alembic_version now {', '.join(rows) or 'empty'} ({moved})"
    if change.backup is not None:
        line += f"; backup {change.backup.path}; restore with: `{restore_command(change)}`"
    elif rows is not None and set(rows) != set(change.before.rows):
        line += "; no backup was taken"
    return line
