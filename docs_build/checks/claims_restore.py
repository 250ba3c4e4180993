"""Claims about the tool's restore and its view of other sessions, checked by running them on small
SQLite files (and, for what only PostgreSQL does, by reading the code that does it)."""

from __future__ import annotations

import inspect
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from docs_build.checks.claim_registry import check
from docs_build.checks.claims_tool import HEAD_ROWS, _sqlite_db

_READER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN")
connection.execute("SELECT * FROM alembic_version").fetchall()
print("reading", flush=True)
sys.stdin.read()
"""


@contextmanager
def _reader(path: Path):
    """Another process inside a read transaction on the SQLite file ``path``."""
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout.readline().strip() == "reading"
        yield reader
    finally:
        reader.kill()
        reader.wait()


def _fails(call, *words: str) -> str:
    from runbooks.errors import RunbookError

    try:
        call()
    except RunbookError as error:
        assert all(word in str(error) for word in words), (words, str(error))
        return str(error)
    raise AssertionError(f"accepted, expected a refusal saying {words}")


@check
def other_sessions_are_named():
    """PostgreSQL: pid, user, application, state and the tables locked; SQLite: the process holding
    a file lock, read with F_GETLK (no lock taken, so a writer is not held up)."""
    from runbooks.database import sessions

    session = sessions.Session(4242, "galaxy", "uwsgi", "", "idle in transaction", 30, 30, "", None, (), ("job",))
    said = "pid 4242 user galaxy (uwsgi) from local socket: idle in transaction for 30s; holds locks on job"
    assert session.describe() == said, session.describe()
    assert "pg_locks" in inspect.getsource(sessions) and "a.application_name" in inspect.getsource(sessions)
    with tempfile.TemporaryDirectory() as folder:
        db = _sqlite_db(Path(folder))
        with _reader(db.sqlite_path) as reader:
            found = sessions.sqlite_locks(db.sqlite_path)
            assert [(lock.kind, lock.pid) for lock in found] == [("shared", reader.pid)], found
            from runbooks.doctor.checks.sessions_and_locks import sqlite_openers

            assert reader.pid in [pid for pid, _ in sqlite_openers(db.sqlite_path)]  # the file open, named
            writer = sqlite3.connect(db.sqlite_path, timeout=0)
            writer.execute("BEGIN IMMEDIATE")  # the reader's lock only: the check took none
            writer.rollback()
            writer.close()


@check
def restore_checks_the_backup_whole_first():
    """Each bad backup is refused with one line ending "nothing was changed", the database untouched;
    --force restores another database's backup and says so."""
    from runbooks.database.backup import make_backup
    from runbooks.database.manifest import manifest_path
    from runbooks.database.restore import restore

    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        db = _sqlite_db(here)
        before = db.sqlite_path.read_bytes()
        backup = make_backup(db, here / "backups").path
        (here / "empty.sqlite").write_bytes(b"")
        _fails(lambda: restore(here / "empty.sqlite", db), "is empty", "nothing was changed")
        (here / "dump").write_bytes(b"PGDMP" + bytes(100))
        _fails(lambda: restore(here / "dump", db), "is a pg_dump archive", "nothing was changed")
        manifest = json.loads(manifest_path(backup).read_text())
        manifest_path(backup).write_text(json.dumps(manifest | {"size": manifest["size"] + 1}))
        _fails(lambda: restore(backup, db), "nothing was changed")
        manifest_path(backup).write_text(json.dumps(manifest))
        other = here / "other"
        other.mkdir()
        other_db = _sqlite_db(other, rows=("a91ea1d97111",))
        other_before = other_db.sqlite_path.read_bytes()
        _fails(lambda: restore(backup, other_db), "nothing was changed")
        assert other_db.sqlite_path.read_bytes() == other_before and db.sqlite_path.read_bytes() == before
        plain = here / "plain.sqlite"
        sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
        _fails(lambda: restore(plain, db), "not a Galaxy database", "--force")
        forced = restore(backup, other_db, force=True, keep=False)
        assert any(note.startswith("forced: the backup is of") for note in forced.notes), forced.notes
        assert sorted(forced.rows) == sorted(HEAD_ROWS)


@check
def restore_locks_then_writes_into_the_live_file():
    """SQLite: a reader is named at once; the restore writes through the backup API into the same file
    (its inode unchanged); PostgreSQL: a scratch database checked, then both renames in one statement."""
    from runbooks.database import restore as restoring
    from runbooks.database.backup import make_backup
    from runbooks.errors import Refused

    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        db = _sqlite_db(here)
        backup = make_backup(db, here / "backups").path
        with sqlite3.connect(db.sqlite_path) as connection:
            connection.execute("UPDATE alembic_version SET version_num = 'a91ea1d97111' WHERE rowid = 1")
        connection.close()
        inode = os.stat(db.sqlite_path).st_ino
        with _reader(db.sqlite_path) as reader:
            refused = lambda: restoring.restore(backup, db, keep=False)  # noqa: E731
            error = _fails(refused, f"pid {reader.pid}", "nothing was changed")
            assert "is in use" in error
        restoring.restore(backup, db, keep=False)
        assert os.stat(db.sqlite_path).st_ino == inode
        rows = sqlite3.connect(db.sqlite_path).execute("SELECT version_num FROM alembic_version").fetchall()
        assert sorted(r for (r,) in rows) == sorted(HEAD_ROWS)
    source = inspect.getsource(restoring.restore)
    assert source.index("checked_backup_file") < source.index('with migration_lock(db, "restore"):')
    assert "backup_pages(src, dst" in inspect.getsource(restoring._restore_sqlite)
    postgresql = inspect.getsource(restoring._restore_postgresql)
    assert postgresql.index("_refuse_postgresql_sessions") < postgresql.index("pg_restore_into(path, new.db)")
    assert postgresql.index("_check_galaxy") < postgresql.index("_swap(") < postgresql.index("_keep_replaced")
    assert "run_admin_sql(db, rename_old + rename_new)" in inspect.getsource(restoring._swap)
    assert "_before_restore_" in inspect.getsource(restoring._keep_replaced)
    assert Refused.exit_code == 1
