"""Attacks on the backup an upgrade takes first: whole or absent, named safely, with a manifest.

A full disk, a read-only folder or an interrupted copy leaves no file in the backup folder, the
database is not touched, and the user reads one line saying why.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
from mounts import fill, make_read_only, tmpfs

from runbooks.database import backup as backup_module
from runbooks.database.backup import backup_stem, make_backup
from runbooks.database.connections import connect_postgresql
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError
from runbooks.settings import HOME_ENV
from runbooks.tasks.migrate import read_rows

from attacks import PASSWORD, assert_refused, attack, fingerprint
from conftest import _admin_sql, file_digest, run_cli


def with_password(db: DatabaseUrl) -> str:
    return db.url.set(password=PASSWORD).render_as_string(hide_password=False)


def upgrade_with_home(db: DatabaseUrl, home, *flags: str):
    url = db.secret() if db.is_sqlite else with_password(db)
    return run_cli("upgrade", "--db", url, "--yes", *flags, env={HOME_ENV: str(home)})


def refused_by_the_preflight_then_by_the_backup(db: DatabaseUrl, home, *backup_words: str) -> None:
    """The pre-flight sees the small disk first (exit 1); past it, the backup itself fails (exit 2)."""
    assert_refused(upgrade_with_home(db, home), "backup-disk-too-small", "nothing was changed", code=1)
    assert_refused(upgrade_with_home(db, home, "--ignore-preflight"), "backup", *backup_words, "nothing was changed")


@attack("backup", "SQLite: backup into a read-only folder", "refused before the upgrade, exit 2, no file, unchanged")
def test_backup_into_a_read_only_folder(sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    with tmpfs(tmp_path / "home", "8M") as home:
        (home / "backups").mkdir()
        make_read_only(home)
        before = fingerprint(db)
        refused_by_the_preflight_then_by_the_backup(db, home, "read-only")
        assert fingerprint(db) == before
        assert list((home / "backups").iterdir()) == []


@pytest.mark.parametrize(
    "dialect",
    [
        attack("backup", "SQLite: backup onto a full disk", "refused, exit 2, the partial file removed").param(
            "sqlite"
        ),
        attack("backup", "PostgreSQL: pg_dump onto a full disk", "refused, exit 2, the partial dump removed").param(
            "postgresql"
        ),
    ],
)
def test_backup_onto_a_full_disk(dialect, request, tmp_path):
    db = request.getfixturevalue("sqlite_db" if dialect == "sqlite" else "pg_db")("26.0")
    with tmpfs(tmp_path / "home", "1M") as home:
        (home / "backups").mkdir()
        fill(home)
        (home / "filler").write_bytes(b"\0" * ((home / "filler").stat().st_size - 20_000))  # 20 kB free
        before = fingerprint(db)
        refused_by_the_preflight_then_by_the_backup(db, home, "no space left")
        assert fingerprint(db) == before
        assert list((home / "backups").iterdir()) == []


@attack("backup", "a backup interrupted half-way (Ctrl-C)", "no partial or unmanifested file is left")
def test_interrupted_backup_leaves_nothing(sqlite_db, tmp_path, monkeypatch):
    db = sqlite_db("head")
    real_copy = backup_module.copy_sqlite

    def copy_then_interrupt(source, target, *args):
        real_copy(source, target, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(backup_module, "copy_sqlite", copy_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        make_backup(db, tmp_path / "backups")
    assert list((tmp_path / "backups").iterdir()) == []


@attack("backup", "a database file named x$(touch${IFS}HACKED) ;.sqlite", "the backup name is inert, in the folder")
def test_hostile_database_name(sqlite_db, tmp_path):
    source = sqlite_db("head")
    hostile = tmp_path / "x$(touch${IFS}HACKED) ;.sqlite"
    hostile.write_bytes(source.sqlite_path.read_bytes())
    made = make_backup(DatabaseUrl.parse(f"sqlite:///{hostile}"), tmp_path / "backups")
    assert made.path.parent == tmp_path / "backups"
    assert set(made.path.name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    assert not made.path.name.startswith(("-", "."))


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", "-rf", "a b;c|d&e`f`", "$(reboot)", ""])
def test_backup_stem_has_no_separators_or_shell_characters(name):
    stem = backup_stem(DatabaseUrl.parse(f"postgresql://u@h/{name or 'x'}"))
    assert stem and "/" not in stem and not stem.startswith(("-", "."))
    assert set(stem) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@attack("backup", "PostgreSQL: the manifest of a backup made with a password in the URL", "masked; rows, checksum")
def test_manifest_is_complete_and_has_no_password(pg_db, tmp_path):
    db = pg_db("26.0")
    rows_before = set(read_rows(db))
    result = upgrade_with_home(db, tmp_path)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    (dump,) = (tmp_path / "backups").glob("*.dump")
    text = (tmp_path / "backups" / f"{dump.name}.manifest.json").read_text()
    assert PASSWORD not in text
    manifest = json.loads(text)
    assert manifest["dialect"] == "postgresql" and manifest["source"]["database"] == db.database_name
    assert manifest["size"] == dump.stat().st_size and manifest["sha256"] == file_digest(dump)
    assert set(manifest["alembic_version"]) == rows_before
    assert manifest["galaxy_data"] and manifest["tool"].startswith("galaxy-runbooks")


@attack("backup", "two backups of one database in the same second, from one process", "two files; the first kept")
def test_two_backups_in_one_second_keep_both(sqlite_db, tmp_path, monkeypatch):
    db = sqlite_db("26.0")
    monkeypatch.setattr(backup_module.time, "strftime", lambda *args: "20260101-000000")  # the same second
    first = make_backup(db, tmp_path / "backups")
    first_digest = file_digest(first.path)
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = version_num")  # a later state, same rows
        conn.execute("CREATE TABLE changed_between (x INTEGER)")
    conn.close()
    second = make_backup(db, tmp_path / "backups")
    assert first.path != second.path and first.path.is_file() and second.path.is_file()
    assert file_digest(first.path) == first_digest  # not overwritten by the second
    for made in (first, second):
        manifest = json.loads(made.manifest.read_text())
        assert manifest["file"] == made.path.name and manifest["sha256"] == file_digest(made.path)


@attack("backup", "PostgreSQL: a database named with = (read by pg_dump -d as a connection string)", "backed up")
def test_database_name_with_equals_is_backed_up(pg_db, pg_admin, tmp_path):
    source = pg_db("26.0")
    db = source.with_database(f"{source.database_name}_x=y")
    _admin_sql(pg_admin, f'ALTER DATABASE "{source.database_name}" RENAME TO "{db.database_name}"')
    try:
        made = make_backup(db, tmp_path / "backups")
        manifest = json.loads(made.manifest.read_text())
        assert manifest["source"]["database"] == db.database_name
        assert set(manifest["alembic_version"]) == set(read_rows(db))
    finally:
        _admin_sql(pg_admin, f'DROP DATABASE IF EXISTS "{db.database_name}" WITH (FORCE)')


@attack("backup", "PostgreSQL: pg_dump fails (a role that may not read a table)", "refused, the reason named")
def test_pg_dump_failure_names_the_reason(pg_db, pg_admin, tmp_path):
    db = pg_db("26.0")
    role = f"rb_reader_{uuid.uuid4().hex[:8]}"
    _admin_sql(pg_admin, f'CREATE ROLE "{role}" LOGIN; GRANT CONNECT ON DATABASE "{db.database_name}" TO "{role}"')
    in_database(db, f'GRANT SELECT ON alembic_version TO "{role}"')  # it reads the version, then pg_dump fails
    try:
        with pytest.raises(RunbookError) as failed:
            make_backup(as_role(db, role), tmp_path)
        assert "permission denied for table" in str(failed.value), failed.value
        assert list(tmp_path.iterdir()) == []
    finally:
        in_database(db, f'DROP OWNED BY "{role}"')
        _admin_sql(pg_admin, f'DROP ROLE IF EXISTS "{role}"')


def in_database(db: DatabaseUrl, sql: str) -> None:
    conn = connect_postgresql(db)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def as_role(db: DatabaseUrl, role: str) -> DatabaseUrl:
    return DatabaseUrl(db.url.set(username=role))
