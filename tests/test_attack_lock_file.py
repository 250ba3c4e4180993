"""Attacks on the SQLite migration lock file beside the database (``DB.runbooks-lock``).

Whatever sits at that name before the tool (a symbolic link to the database or to another file,
a FIFO, a hard link, a file someone else made) is never opened for writing, followed or
truncated: the change is refused with one clear line and every file is as it was.
"""

from __future__ import annotations

import os

import pytest

from runbooks.database.migration_lock import acquire, lock_file, migration_lock
from runbooks.errors import RunbookError

from attacks import assert_refused, attack, fingerprint
from conftest import run_cli


def plant(kind: str, lock, db_path, tmp_path):
    """What a local user leaves at the lock's name; returns the file whose bytes must not change."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious bytes\n" * 10)
    if kind == "symlink to the database":
        os.symlink(db_path, lock)
        return db_path
    if kind == "symlink to another file":
        os.symlink(victim, lock)
        return victim
    if kind == "dangling symlink":
        os.symlink(tmp_path / "made-by-the-link", lock)
        return None
    if kind == "hard link to another file":
        os.link(victim, lock)
        return victim
    os.mkfifo(lock)
    return None


KINDS = ["symlink to the database", "symlink to another file", "dangling symlink", "hard link to another file", "FIFO"]


@attack("special-files", "something planted at DB.runbooks-lock (links, a FIFO)", "refused, one line; nothing written")
@pytest.mark.parametrize("kind", KINDS)
def test_planted_lock_file_is_not_followed(kind, sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    lock = lock_file(db)
    victim = plant(kind, lock, db.sqlite_path, tmp_path)
    before_db = fingerprint(db)
    before_victim = victim.read_bytes() if victim else None
    with pytest.raises(RunbookError) as caught:
        acquire(db, "upgrade").release()
    message = str(caught.value)
    assert str(lock) in message and "nothing was changed" in message and "\n" not in message
    assert fingerprint(db) == before_db
    if victim:
        assert victim.read_bytes() == before_victim
    assert os.path.lexists(lock)  # what was there stays for the user to look at
    assert not (tmp_path / "made-by-the-link").exists()


@attack("special-files", "upgrade with a symlink from DB.runbooks-lock to the database", "exit 2, database intact")
def test_upgrade_through_a_planted_symlink(sqlite_db):
    db = sqlite_db("26.0")
    os.symlink(db.sqlite_path, lock_file(db))
    before = fingerprint(db)
    result = run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup")
    assert_refused(result, "is a symbolic link", "nothing was changed")
    assert fingerprint(db) == before


@attack("concurrency", "two hard links to one SQLite database, a migration through each", "the second refused")
def test_two_names_of_one_database_file_share_one_lock(sqlite_db, tmp_path):
    """Two hard links to one database: a lock taken through one name refuses a change through the
    other (the lock file beside each name alone let two migrations run at once)."""
    db = sqlite_db("26.0")
    other = tmp_path / "other-name.sqlite"
    os.link(db.sqlite_path, other)
    before = fingerprint(db)
    with migration_lock(db, "upgrade"):
        result = run_cli("upgrade", "--yes", "--no-backup", "--db", f"sqlite:///{other}")
        assert_refused(result, "another migration holds this database file under another name", code=1)
    assert fingerprint(db) == before
    assert not lock_file(db).exists() and not (tmp_path / "other-name.sqlite.runbooks-lock").exists()
