"""Ctrl-C during a restore: the line says whether the backup had already replaced the database, as read back."""

from __future__ import annotations

import signal

import pytest

from runbooks.cli import interrupts
from runbooks.cli.main import main
from runbooks.database import restore as restore_module
from runbooks.database.backup import make_backup
from runbooks.tasks.migrate import read_rows

from attacks import fingerprint

AT_26_0 = {"9930b68c85af", "d4a650f47a3c"}


@pytest.fixture
def restore_cli(capsys):
    """``main(["restore", ...])`` in this process; the signal handlers it installs are put back after."""
    saved = {signum: signal.getsignal(signum) for signum in interrupts.HANDLED}

    def run(backup, db) -> tuple[int, str]:
        code = main(["restore", str(backup), "--yes", "--db", db.secret()])
        return code, capsys.readouterr().err.strip()

    yield run
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture
def upgraded_and_its_backup(sqlite_db, tmp_path):
    """A head database and a backup of it at 26.0 (a restore would move it back)."""
    old = sqlite_db("26.0")
    backup = make_backup(old, tmp_path / "backups").path
    head = sqlite_db("head")
    backup_of_head = tmp_path / "backups" / backup.name.replace(old.sqlite_path.stem, head.sqlite_path.stem)
    backup.rename(backup_of_head)
    backup.with_name(backup.name + ".manifest.json").unlink()  # no manifest: a backup of this database by name only
    return head, backup_of_head


def test_interrupted_before_writing_says_nothing_changed(upgraded_and_its_backup, restore_cli, monkeypatch):
    db, backup = upgraded_and_its_backup
    before = fingerprint(db)

    def interrupt(path):
        raise interrupts.Interrupted(signal.SIGINT)

    monkeypatch.setattr(restore_module, "_integrity_check", interrupt)
    code, line = restore_cli(backup, db)
    assert code == 130 and "before it wrote anything: the database was not changed" in line, line
    assert fingerprint(db) == before


def test_interrupted_after_the_copy_says_the_database_changed(upgraded_and_its_backup, restore_cli, monkeypatch):
    db, backup = upgraded_and_its_backup
    real = restore_module.backup_pages

    def copy_then_interrupt(src, dst, timeout):
        real(src, dst, timeout)
        raise interrupts.Interrupted(signal.SIGINT)  # the copy committed; the signal lands before anything else

    monkeypatch.setattr(restore_module, "backup_pages", copy_then_interrupt)
    code, line = restore_cli(backup, db)
    assert code == 130 and set(read_rows(db)) == AT_26_0
    assert f"alembic_version now {', '.join(read_rows(db))} (changed)" in line, line
