"""Throwaway databases: the one mechanism behind rehearsals, proofs and the test states.

``scratch_database`` gives a database that lives only inside its ``with`` block and is always
dropped afterwards: a SQLite file (in a temporary folder, or a given one) or a PostgreSQL
database on a given server. It starts as a new name (nothing created yet: Galaxy's own
initialization can create it), empty (``create=True``), or a copy of another database
(``copy_of=``): SQLite through the backup API, PostgreSQL by ``CREATE DATABASE ... TEMPLATE``
with a ``pg_dump``/``pg_restore`` fallback (TEMPLATE needs the source to have no other sessions).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.backup import Busy, copy_sqlite, load_dump, make_backup, why
from runbooks.database.connections import drop_postgresql_database, recreate_postgresql_database
from runbooks.database.database_meta import copy_settings
from runbooks.database.leftovers import PG_PREFIX, SQLITE_PREFIX, owner_tag
from runbooks.database.server_facts import database_size
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError, UsageError

SQLITE_COPY = "copy of the SQLite file"
TEMPLATE_COPY = "PostgreSQL copy (CREATE DATABASE ... TEMPLATE)"
DUMP_COPY = "PostgreSQL copy (pg_dump / pg_restore)"


@dataclass(frozen=True)
class Scratch:
    db: DatabaseUrl
    made_by: str  # how it started: "new (not created)", "empty database" or how it was copied


@contextmanager
def scratch_database(
    server: DatabaseUrl | None = None,
    *,
    copy_of: DatabaseUrl | None = None,
    create: bool = False,
    folder: Path | None = None,
    name: str = "scratch",
) -> Iterator[Scratch]:
    """A throwaway database, dropped when the block ends (whatever happens inside it).

    ``server``: a PostgreSQL URL puts it on that server (its own database is only connected to);
    a SQLite URL or None makes a SQLite file. Default: ``copy_of``'s kind and server, else SQLite.
    ``folder``: where the SQLite file goes (default: a temporary folder removed afterwards).
    """
    where = server if server is not None else copy_of
    if where is None or where.is_sqlite:
        with _sqlite_place(folder) as place:
            db = DatabaseUrl.parse(f"sqlite:///{place / _safe(name)}.sqlite")
            with _dropped(db):
                yield Scratch(db, _sqlite_start(db, copy_of, create, place, temporary=folder is None))
        return
    # The owner's host and pid in the name: the next run drops it if a killed process left it behind.
    db = where.with_database(f"{PG_PREFIX}_{owner_tag()}_{uuid.uuid4().hex[:6]}_{_safe(name)}"[:63])
    with _dropped(db):
        yield Scratch(db, _start(db, copy_of, create))


@contextmanager
def _sqlite_place(folder: Path | None) -> Iterator[Path]:
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        yield Path(folder)
        return
    try:
        temporary = tempfile.mkdtemp(prefix=f"{SQLITE_PREFIX}{owner_tag()}-")
    except OSError as error:  # TMPDIR full (no inode left), read-only or gone since Python chose it
        raise RunbookError(
            f"cannot make a temporary folder in {_temporary_root()} ({why(error)}): "
            f"point TMPDIR at a writable folder with room for a copy of the database"
        ) from None
    try:
        yield Path(temporary)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _temporary_root() -> str:
    try:
        return tempfile.gettempdir()
    except OSError:  # none usable: TMPDIR, /tmp, /var/tmp, the current folder
        return "any temporary folder"


def _sqlite_start(db: DatabaseUrl, copy_of: DatabaseUrl | None, create: bool, place: Path, temporary: bool) -> str:
    """``_start`` for a SQLite scratch; a full or read-only folder is one line naming it (TMPDIR when temporary)."""
    try:
        return _start(db, copy_of, create)
    except Busy:
        raise
    except (OSError, sqlite3.OperationalError) as error:
        reason = why(error)
        if not reason.startswith(("no space left", "the folder is read-only")):
            raise
        size = database_size(copy_of) if copy_of is not None and copy_of.is_sqlite else 0
        size_text = f" (the database takes {size / 1024**2:.1f} MiB)" if size else ""
        where = "point TMPDIR at a folder with room" if temporary else "use a folder with room"
        raise RunbookError(
            f"could not make a scratch copy in {place.parent if temporary else place} ({reason}): "
            f"free space there or {where}{size_text}"
        ) from None


@contextmanager
def _dropped(db: DatabaseUrl) -> Iterator[None]:
    try:
        yield
    finally:
        drop_database(db)


def _safe(name: str) -> str:
    return name.replace("-", "_").replace("@", "_")


def _start(db: DatabaseUrl, copy_of: DatabaseUrl | None, create: bool) -> str:
    if copy_of is not None:
        return copy_database(copy_of, db)
    if create:
        create_empty(db)
        return "empty database"
    return "new (not created)"


def create_empty(db: DatabaseUrl) -> None:
    """``db`` as a database without tables (replacing any that is there)."""
    if db.is_sqlite:
        db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        db.sqlite_path.unlink(missing_ok=True)
        sqlite3.connect(db.sqlite_path).close()
    else:
        recreate_postgresql_database(db)


def copy_database(source: DatabaseUrl, target: DatabaseUrl) -> str:
    """Make ``target`` (replaced if it exists) a copy of ``source``; returns how it was copied."""
    if source.is_sqlite != target.is_sqlite:
        raise UsageError("copy a database within one dialect")
    if source.is_sqlite:
        target.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        target.sqlite_path.unlink(missing_ok=True)
        copy_sqlite(source.sqlite_path, target.sqlite_path)
        return SQLITE_COPY
    try:
        recreate_postgresql_database(target, template=source.database_name)
        how = TEMPLATE_COPY
    except Exception:  # noqa: BLE001 - other sessions on the source (or another server): dump and restore
        with tempfile.TemporaryDirectory(prefix=f"{SQLITE_PREFIX}{owner_tag()}-") as folder:
            load_dump(make_backup(source, Path(folder)).path, target)
        how = DUMP_COPY
    copy_settings(source, target)  # its search_path and the like: a copy must behave as the original does
    return how


def run_statements(db: DatabaseUrl, statements) -> None:
    """Run statements one by one (autocommit) on a throwaway database, the way psql/sqlite3 would."""
    from runbooks.database.connections import run_autocommit

    if db.is_sqlite:
        conn = sqlite3.connect(db.sqlite_path, isolation_level=None)
        try:
            for statement in statements:
                conn.execute(statement)
        finally:
            conn.close()
        return
    run_autocommit(db, list(statements))


def drop_database(db: DatabaseUrl) -> None:
    """Remove ``db`` if it exists: the SQLite file (and its journal), or the PostgreSQL database."""
    if db.is_sqlite:
        for path in (db.sqlite_path, Path(f"{db.sqlite_path}-journal"), Path(f"{db.sqlite_path}-wal")):
            path.unlink(missing_ok=True)
        return
    drop_postgresql_database(db)
