"""Attacks: a restore onto a database that is not Galaxy's, and what a restore keeps.

A backup without a manifest (a file the user made) given for a target that is not a Galaxy
database (no version table) is refused before anything is written, unless ``--force``; every
restore keeps what it replaces (SQLite: a backup file with its manifest; PostgreSQL: the old
database under a printed name) unless the user says ``--no-keep``.
"""

from __future__ import annotations

import sqlite3

import pytest

from runbooks.database.backup import make_backup
from runbooks.database.connections import connect_postgresql, inspect_database
from runbooks.database.restore import restore
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError

from attacks import assert_refused, attack, fingerprint
from conftest import run_cli


def notes_file(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.executemany("INSERT INTO notes VALUES (?)", [(f"note {i}",) for i in range(100)])
    conn.commit()
    conn.close()
    return DatabaseUrl.parse(f"sqlite:///{path}")


def manifestless_backup(db, folder):
    backup = make_backup(db, folder)
    backup.manifest.unlink()  # a copy the user made: nothing says what it is a backup of
    return backup.path


@attack("restore", "SQLite: a backup without a manifest onto a database that is not Galaxy's", "refused, unchanged")
def test_sqlite_non_galaxy_target_is_refused(sqlite_db, tmp_path):
    target = notes_file(tmp_path / "notes.sqlite")
    backup = manifestless_backup(sqlite_db("26.0"), tmp_path / "backups")
    before = fingerprint(target)
    result = run_cli("restore", str(backup), "--db", target.secret(), "--yes")
    assert_refused(result, "is not a Galaxy database", "--force", "nothing was changed")
    assert fingerprint(target) == before


@attack("restore", "PostgreSQL: a backup without a manifest onto a database that is not Galaxy's", "refused, unchanged")
def test_postgresql_non_galaxy_target_is_refused(pg_db, pg_database, tmp_path):
    target = pg_database(create=True)
    conn = connect_postgresql(target)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE notes AS SELECT 'note ' || i AS body FROM generate_series(1, 100) i")
    conn.close()
    backup = manifestless_backup(pg_db("26.0"), tmp_path / "backups")
    before = fingerprint(target)
    with pytest.raises(RunbookError) as caught:
        restore(backup, target)
    assert "is not a Galaxy database" in str(caught.value) and "nothing was changed" in str(caught.value)
    assert fingerprint(target) == before


@attack("restore", "SQLite: restore keeps what it replaces", "a backup of the replaced database, content equal")
def test_sqlite_restore_keeps_a_safety_copy(sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    backup = make_backup(db, tmp_path / "backups").path
    conn = sqlite3.connect(db.sqlite_path)
    conn.execute("CREATE TABLE late_change (body TEXT)")
    conn.execute("INSERT INTO late_change VALUES ('made after the backup')")
    conn.commit()
    conn.close()
    before = fingerprint(db)
    restored = restore(backup, db)
    kept = DatabaseUrl.parse(f"sqlite:///{restored.kept}")
    assert str(restored.kept) in restored.text()
    conn = sqlite3.connect(kept.sqlite_path)
    assert conn.execute("SELECT body FROM late_change").fetchall() == [("made after the backup",)]
    conn.close()
    assert inspect_database(kept).alembic_rows == inspect_database(db).alembic_rows
    assert before != fingerprint(db)


@attack("restore", "SQLite: restore --no-keep", "no copy of the replaced database is made")
def test_sqlite_restore_no_keep(sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    backup = make_backup(db, tmp_path / "backups").path
    restored = restore(backup, db, keep=False)
    assert restored.kept is None and "kept" not in restored.text()
