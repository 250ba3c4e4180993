"""Attacks: ``restore --no-keep`` from the command line, on both dialects.

Without the flag, a restore keeps what it replaces (SQLite: a backup file beside the others;
PostgreSQL: the old database renamed ``NAME_before_restore_TIME``) and that copy holds the
replaced content; with ``--no-keep`` nothing is kept.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from runbooks.database.backup import make_backup
from runbooks.database.connections import connect_postgresql, run_autocommit
from runbooks.settings import HOME_ENV

from attacks import attack
from conftest import _databases_named, run_cli

KEPT_FILE = re.compile(r"kept in (\S+) \(with its manifest\)")
KEPT_DATABASE = re.compile(r"kept as (\S+) on the same server")


def _late_change_sqlite(db) -> None:
    conn = sqlite3.connect(db.sqlite_path)
    conn.execute("CREATE TABLE late_change (body TEXT)")
    conn.execute("INSERT INTO late_change VALUES ('made after the backup')")
    conn.commit()
    conn.close()


def _late_change_postgresql(db) -> None:
    run_autocommit(db, ["CREATE TABLE late_change AS SELECT 'made after the backup'::text AS body"])


def _late_rows_postgresql(db) -> list:
    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT body FROM late_change")
            return cursor.fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "no_keep",
    [
        attack("restore", "SQLite: restore from the CLI keeps the replaced database", "kept, content equal").param(
            False
        ),
        attack("restore", "SQLite: restore --no-keep from the CLI", "nothing kept").param(True),
    ],
)
def test_sqlite_cli_keep(sqlite_db, tmp_path, no_keep):
    db = sqlite_db("26.0")
    backup = make_backup(db, tmp_path / "backups").path
    _late_change_sqlite(db)
    home = tmp_path / "home"  # where the CLI keeps its safety copy (home/backups)
    flags = ["--no-keep"] if no_keep else []
    result = run_cli("restore", str(backup), "--db", db.secret(), "--yes", *flags, env={HOME_ENV: str(home)})
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db.sqlite_path)
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'late_change'").fetchall()
    conn.close()
    kept = KEPT_FILE.search(result.stdout)
    if no_keep:
        assert kept is None and "kept" not in result.stdout, result.stdout
        assert not list(home.glob("backups/*.sqlite")), list(home.rglob("*"))
        return
    assert kept and kept.group(1).startswith(str(home)), result.stdout
    conn = sqlite3.connect(kept.group(1))
    assert conn.execute("SELECT body FROM late_change").fetchall() == [("made after the backup",)]
    conn.close()


@pytest.mark.parametrize(
    "no_keep",
    [
        attack("restore", "PostgreSQL: restore from the CLI keeps the replaced database", "kept, content equal").param(
            False
        ),
        attack("restore", "PostgreSQL: restore --no-keep from the CLI", "nothing kept").param(True),
    ],
)
def test_postgresql_cli_keep(pg_db, pg_admin, tmp_path, no_keep):
    db = pg_db("26.0")
    backup = make_backup(db, tmp_path / "backups").path
    _late_change_postgresql(db)
    result = run_cli("restore", str(backup), "--db", db.secret(), "--yes", *(["--no-keep"] if no_keep else []))
    assert result.returncode == 0, result.stderr
    assert "late_change" not in repr(_tables(db))
    kept = KEPT_DATABASE.search(result.stdout)
    if no_keep:
        assert kept is None and "kept" not in result.stdout, result.stdout
        assert _databases_named(pg_admin, f"{db.database_name}_before_restore") == []
        return
    assert kept, result.stdout
    assert _late_rows_postgresql(db.with_database(kept.group(1))) == [("made after the backup",)]


def _tables(db) -> list:
    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return cursor.fetchall()
    finally:
        conn.close()
