"""Attacks on ``restore``: whatever it is given, it checks the backup whole first and a failure
changes nothing (SQLite byte-identical, PostgreSQL dump-identical), saying so in one line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from mounts import make_read_only, tmpfs

from runbooks.database.backup import make_backup
from runbooks.database.connections import connect_postgresql
from runbooks.database.urls import DatabaseUrl
from runbooks.tasks.migrate import read_rows

from attacks import PASSWORD, assert_no_crash, assert_refused, attack, fingerprint
from conftest import PROJECT, run_cli


def with_password(db: DatabaseUrl) -> str:
    """The URL with a password (the test server trusts local logins, so any password works)."""
    return db.url.set(password=PASSWORD).render_as_string(hide_password=False)


def restore_cli(backup, db: DatabaseUrl, *extra: str, cwd=None):
    args = ["restore", str(backup), "--db", db.secret() if db.is_sqlite else with_password(db), "--yes", *extra]
    if cwd is None:
        return run_cli(*args)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, "-m", "runbooks", *args], cwd=cwd, env=env, capture_output=True, text=True)


def not_galaxy_sqlite(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    return path


def truncated_copy(source, target):
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    return target


def sqlite_bad_backup(kind: str, tmp_path, sqlite_db):
    """A file that must never replace a SQLite database."""
    if kind == "empty":
        (tmp_path / "empty.sqlite").write_bytes(b"")
        return tmp_path / "empty.sqlite"
    if kind == "not-galaxy":
        return not_galaxy_sqlite(tmp_path / "notes.sqlite")
    if kind == "text":
        (tmp_path / "notes.txt").write_text("hello\n" * 100)
        return tmp_path / "notes.txt"
    if kind == "missing":
        return tmp_path / "no-such-backup.sqlite"
    if kind == "directory":
        return tmp_path
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return tmp_path / "pipe"
    if kind == "pg-dump":
        (tmp_path / "x.dump").write_bytes(b"PGDMP" + b"\0" * 200)
        return tmp_path / "x.dump"
    if kind == "truncated":
        backup = make_backup(sqlite_db("26.0"), tmp_path / "backups").path
        return truncated_copy(backup, backup)  # its manifest still describes the whole file
    raise AssertionError(kind)


SQLITE_CASES = [
    attack("restore", "SQLite: a 0-byte file (what a failed backup leaves)", "refused, exit 2, unchanged").param(
        "empty", "is empty"
    ),
    attack("restore", "SQLite: a SQLite database that is not Galaxy's", "refused unless --force, exit 2").param(
        "not-galaxy", "not a Galaxy database"
    ),
    attack("restore", "SQLite: a text file", "refused, exit 2, unchanged").param("text", "not a SQLite database"),
    attack("restore", "SQLite: a backup file that does not exist", "refused, exit 2, unchanged").param(
        "missing", "no backup file"
    ),
    attack("restore", "SQLite: a directory as the backup", "refused, exit 2, unchanged").param(
        "directory", "is a directory"
    ),
    attack("restore", "SQLite: a FIFO as the backup", "refused at once (never opened), exit 2").param("fifo", "FIFO"),
    attack("restore", "SQLite: a pg_dump archive onto a SQLite database", "refused, exit 2, unchanged").param(
        "pg-dump", "pg_dump archive"
    ),
    attack("restore", "SQLite: a truncated backup (manifest size and checksum)", "refused, exit 2, unchanged").param(
        "truncated", "does not match its manifest"
    ),
]


@pytest.mark.parametrize("kind, words", SQLITE_CASES)
def test_sqlite_restore_refuses(kind, words, sqlite_db, tmp_path):
    db = sqlite_db("head")
    backup = sqlite_bad_backup(kind, tmp_path, sqlite_db)
    before = fingerprint(db)
    result = restore_cli(backup, db)
    assert_refused(result, words, "nothing was changed")
    assert fingerprint(db) == before


def test_force_restores_a_non_galaxy_file_and_says_so(sqlite_db, tmp_path):
    db = sqlite_db("head")
    backup = not_galaxy_sqlite(tmp_path / "notes.sqlite")
    with sqlite3.connect(backup) as conn:
        conn.execute("INSERT INTO notes VALUES ('what the backup holds')")
    conn.close()
    result = restore_cli(backup, db, "--force")
    assert result.returncode == 0, result.stderr
    assert "forced: the backup is not a Galaxy database" in result.stdout
    assert sqlite_content(db.sqlite_path) == sqlite_content(backup)  # the backup's content, whole, and only it


def sqlite_content(path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@attack("restore", "SQLite: a backup of another database (its manifest)", "refused unless --force, exit 2")
def test_backup_of_another_sqlite_database_is_refused(sqlite_db, tmp_path):
    other, db = sqlite_db("26.0"), sqlite_db("head")
    backup = make_backup(other, tmp_path / "backups").path
    before = fingerprint(db)
    assert_refused(restore_cli(backup, db), f"is a backup of {other}", "--force", "nothing was changed")
    assert fingerprint(db) == before
    forced = restore_cli(backup, db, "--force")
    assert forced.returncode == 0, forced.stderr
    assert set(read_rows(db)) == set(read_rows(other))


@attack("restore", "SQLite: a relative backup path", "restored, exit 0, rows read back")
def test_relative_backup_path(sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    rows = set(read_rows(db))
    backup = make_backup(db, tmp_path / "backups").path
    run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup")
    assert set(read_rows(db)) != rows
    result = restore_cli(os.path.relpath(backup, tmp_path), db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_no_crash(result)
    assert set(read_rows(db)) == rows and ", ".join(sorted(rows))[:12] in result.stdout


@attack("restore", "SQLite: restore while another process reads the database", "refused at once naming the pid, exit 1")
def test_restore_behind_a_reader_names_it(sqlite_db, tmp_path):
    db = sqlite_db("head")
    backup = make_backup(sqlite_db("26.0"), tmp_path / "backups").path
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN'); c.execute('SELECT count(*) FROM alembic_version').fetchall()\n"
         "print('reading', flush=True); time.sleep(600)", str(db.sqlite_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "reading"
        before = fingerprint(db)
        result = restore_cli(backup, db, "--force")
        assert_refused(result, f"pid {reader.pid}", "nothing was changed", code=1)
        assert fingerprint(db) == before
    finally:
        reader.kill()
        reader.wait()


@attack("restore", "SQLite: restore onto a database in a read-only folder", "refused, exit 2, unchanged")
def test_restore_onto_a_read_only_folder(sqlite_db, tmp_path):
    source = sqlite_db("head")
    backup = make_backup(sqlite_db("26.0"), tmp_path / "backups").path
    with tmpfs(tmp_path / "ro", "16M") as folder:
        shutil.copyfile(source.sqlite_path, folder / "galaxy.sqlite")
        db = DatabaseUrl.parse(f"sqlite:///{folder / 'galaxy.sqlite'}")
        make_read_only(folder)
        before = fingerprint(db)
        assert_refused(restore_cli(backup, db, "--force"), "read-only", "nothing was changed")
        assert fingerprint(db) == before


@attack("restore", "SQLite: restore onto a full disk", "refused, exit 2, rolled back, unchanged")
def test_restore_onto_a_full_disk(sqlite_db, tmp_path):
    small, big = sqlite_db("head"), sqlite_db("head")
    conn = sqlite3.connect(big.sqlite_path)
    conn.execute("CREATE TABLE ballast (b BLOB)")
    conn.executemany("INSERT INTO ballast VALUES (randomblob(65536))", [()] * 80)  # about 5 MB more
    conn.commit()
    conn.close()
    backup = make_backup(big, tmp_path / "backups").path
    size = small.sqlite_path.stat().st_size
    with tmpfs(tmp_path / "full", f"{size // 1024 + 1024}k") as folder:
        shutil.copyfile(small.sqlite_path, folder / "galaxy.sqlite")
        db = DatabaseUrl.parse(f"sqlite:///{folder / 'galaxy.sqlite'}")
        before = fingerprint(db)
        assert_refused(restore_cli(backup, db, "--force"), "no space left", "nothing was changed")
        assert fingerprint(db) == before


# -- PostgreSQL ----------------------------------------------------------------------


def pg_bad_backup(kind: str, tmp_path, pg_db, sqlite_db):
    if kind == "empty":
        (tmp_path / "empty.dump").write_bytes(b"")
        return tmp_path / "empty.dump"
    if kind == "truncated":
        dump = make_backup(pg_db("26.0"), tmp_path / "backups").path
        return truncated_copy(dump, tmp_path / "truncated.dump")
    if kind == "sqlite":
        return sqlite_db("head").sqlite_path
    if kind == "not-galaxy":
        other = pg_db("26.0")
        conn = connect_postgresql(other)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE alembic_version")
        conn.close()
        backup = make_backup(other, tmp_path / "notgalaxy")
        backup.manifest.unlink()  # a dump the user made with pg_dump: no manifest
        return backup.path
    raise AssertionError(kind)


PG_CASES = [
    attack("restore", "PostgreSQL: a 0-byte file", "refused before anything is dropped, exit 2").param(
        "empty", "is empty"
    ),
    attack("restore", "PostgreSQL: a truncated dump", "refused, the database dump-identical, exit 2").param(
        "truncated", "not a whole pg_dump archive"
    ),
    attack("restore", "PostgreSQL: a SQLite file given to a PostgreSQL target", "refused, exit 2").param(
        "sqlite", "a SQLite database file"
    ),
    attack("restore", "PostgreSQL: a dump of a database without a version table", "refused unless --force").param(
        "not-galaxy", "not a Galaxy database"
    ),
]


@pytest.mark.parametrize("kind, words", PG_CASES)
def test_postgresql_restore_refuses(kind, words, pg_db, sqlite_db, tmp_path):
    db = pg_db("head")
    backup = pg_bad_backup(kind, tmp_path, pg_db, sqlite_db)
    before = fingerprint(db)
    result = restore_cli(backup, db, *(["--force"] if kind == "truncated" else []))  # --force does not help
    assert_refused(result, words, "nothing was changed")
    assert fingerprint(db) == before
    assert not leftover_databases(db)


def leftover_databases(db: DatabaseUrl) -> list[str]:
    """Scratch databases a restore made (its new copy, the database it replaced) still on the server,
    left by a process that has ended (another test worker's restore in flight is not a leftover)."""
    from runbooks.database.leftovers import find_leftovers

    return [
        found.name
        for found in find_leftovers(db)
        if found.kind == "PostgreSQL database" and ("restore" in found.name or "replaced" in found.name)
    ]


@attack("restore", "PostgreSQL: a backup of another database (its manifest)", "refused unless --force, exit 2")
def test_backup_of_another_postgresql_database(pg_db, tmp_path):
    other, db = pg_db("26.0"), pg_db("head")
    backup = make_backup(other, tmp_path / "backups").path
    before = fingerprint(db)
    assert_refused(restore_cli(backup, db), f"is a backup of {other}", "nothing was changed")
    assert fingerprint(db) == before


@attack("restore", "PostgreSQL: restore while a session is connected", "refused naming its pid, exit 1, unchanged")
def test_postgresql_restore_with_a_session(pg_db, tmp_path):
    db = pg_db("26.0")
    backup = make_backup(db, tmp_path / "backups").path
    holder = connect_postgresql(db, application_name="galaxy-web")
    try:
        before = fingerprint(db)
        result = restore_cli(backup, db)
        assert_refused(result, f"pid {holder.get_backend_pid()}", "galaxy-web", "nothing was changed", code=1)
        assert fingerprint(db) == before
    finally:
        holder.close()


@attack("restore", "PostgreSQL: restore after an upgrade (the round trip)", "restored by rename, exit 0, no leftovers")
def test_postgresql_round_trip(pg_db, tmp_path):
    db = pg_db("26.0")
    before = fingerprint(db)
    backup = make_backup(db, tmp_path / "backups").path
    assert run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup").returncode == 0
    assert fingerprint(db) != before
    result = restore_cli(backup, db)
    assert result.returncode == 0, result.stderr
    assert_no_crash(result)
    assert fingerprint(db) == before
    assert not leftover_databases(db)


@attack("restore", "SQLite: a PostgreSQL backup and its manifest onto SQLite", "refused; no --force advice")
def test_postgresql_backup_onto_sqlite_advises_no_force(sqlite_db, tmp_path):
    """Issue 22: the refusal once said `pass --force`, and the forced restore then failed on the file's kind."""
    import json

    from runbooks.database.manifest import identity, manifest_path, sha256_of

    db = sqlite_db("head")
    archive = tmp_path / "galaxy-pg.dump"
    archive.write_bytes(b"PGDMP" + b"\0" * 200)
    source = DatabaseUrl.parse("postgresql://galaxy@db.example.org:5432/galaxy")
    manifest = {"file": archive.name, "database": source.masked(), "source": identity(source), "dialect": "postgresql"}
    manifest |= {"size": archive.stat().st_size, "sha256": sha256_of(archive), "alembic_version": ["fac9c76612f9"]}
    manifest_path(archive).write_text(json.dumps(manifest))  # what a backup of that server's database carries
    before = fingerprint(db)
    refused = restore_cli(archive, db)
    assert_refused(refused, "is a pg_dump archive", "choose one of this database's backups", "nothing was changed")
    assert "--force" not in refused.stderr
    forced = restore_cli(archive, db, "--force")  # what the old advice said to run: refused the same way
    assert_refused(forced, "is a pg_dump archive", "nothing was changed")
    assert fingerprint(db) == before
