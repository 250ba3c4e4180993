"""The pre-flight on SQLite: the database file must take writes, with room beside it for the journal."""

from __future__ import annotations

import shutil

from mounts import fill, make_read_only, tmpfs

from runbooks.database.urls import DatabaseUrl

from attacks import assert_no_crash, fingerprint
from conftest import run_cli


def upgrade_on(folder, source: DatabaseUrl) -> tuple:
    db = DatabaseUrl.parse(f"sqlite:///{folder / 'galaxy.sqlite'}")
    shutil.copyfile(source.sqlite_path, db.sqlite_path)
    return db


def test_a_read_only_database_is_refused_before_anything_runs(sqlite_db, tmp_path):
    with tmpfs(tmp_path / "ro", "64M") as folder:
        db = upgrade_on(folder, sqlite_db("26.0"))
        make_read_only(folder)
        before = fingerprint(db)
        result = run_cli("upgrade", "--yes", "--no-backup", "--db", db.secret())
        assert fingerprint(db) == before
    assert_no_crash(result)
    assert result.returncode == 1 and "database-not-writable" in result.stdout + result.stderr, result.stdout


def test_no_room_beside_the_database_for_its_journal_is_refused(sqlite_db, tmp_path):
    source = sqlite_db("26.0")
    size = source.sqlite_path.stat().st_size
    with tmpfs(tmp_path / "small", f"{size * 3 // 2 // 1024}k") as folder:
        db = upgrade_on(folder, source)
        fill(folder)
        (folder / "filler").write_bytes(b"\0" * ((folder / "filler").stat().st_size - size // 2))  # half its size free
        before = fingerprint(db)
        result = run_cli("upgrade", "--yes", "--no-backup", "--db", db.secret())
        assert fingerprint(db) == before
    assert_no_crash(result)
    assert result.returncode == 1 and "database-disk-too-small" in result.stdout + result.stderr, result.stdout
