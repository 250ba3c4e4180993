"""Attacks: TMPDIR on a full, nearly full, read-only or missing folder.

Python's ``tempfile`` passes over a TMPDIR it cannot write a small file to (full to the last byte,
read-only, missing) and takes ``/tmp``: those runs must simply work. A TMPDIR with a little room
left is taken, and the scratch copy a rehearsal makes there (``upgrade --rehearse``, troubleshoot's
``upgrade-will-fail``) ran out of space: ``internal error: OperationalError: database or disk is
full``. Now one line names the folder, the reason, TMPDIR and the room needed; the database is not
touched.
"""

from __future__ import annotations

import json

import pytest
from mounts import fill, make_read_only, tmpfs

from attacks import assert_no_crash, assert_refused, attack, fingerprint
from conftest import run_cli

REFUSED = ("could not make a scratch copy in", "no space left on the device", "TMPDIR", "MiB")


def nearly_full(folder):
    """A 2 MiB tmpfs with about 190 KiB left: enough for Python to choose it, not for a database copy."""
    (folder / "filler").write_bytes(b"\0" * 1_900_000)


@pytest.fixture
def small_tmpfs(tmp_path):
    with tmpfs(tmp_path / "tmpdir", size="2M") as folder:
        yield folder


@pytest.mark.parametrize(
    "command",
    [
        attack("other", "SQLite: upgrade --rehearse with TMPDIR nearly full", "exit 2, one line, unchanged").param(
            ["upgrade", "--rehearse", "--yes"]
        ),
        attack("other", "SQLite: troubleshoot --drift with TMPDIR nearly full", "exit 2, one line, unchanged").param(
            ["troubleshoot", "--drift"]
        ),
    ],
)
def test_nearly_full_tmpdir_is_one_line(sqlite_db, small_tmpfs, command):
    db = sqlite_db("26.0")
    nearly_full(small_tmpfs)
    before = fingerprint(db)
    result = run_cli(*command, "--db", db.secret(), env={"TMPDIR": str(small_tmpfs)})
    line = assert_refused(result, *REFUSED)
    assert str(small_tmpfs) in line, line
    assert fingerprint(db) == before


@pytest.mark.parametrize(
    "kind",
    [
        attack("other", "SQLite: troubleshoot --drift with TMPDIR full", "works (Python takes /tmp)").param("full"),
        attack("other", "SQLite: troubleshoot --drift with TMPDIR read-only", "works (Python takes /tmp)").param("ro"),
        attack("other", "SQLite: troubleshoot --drift with TMPDIR missing", "works (Python takes /tmp)").param(
            "missing"
        ),
    ],
)
def test_unusable_tmpdir_is_passed_over(sqlite_db, small_tmpfs, kind):
    db = sqlite_db("26.0")
    tmpdir = small_tmpfs / "gone" if kind == "missing" else small_tmpfs
    if kind == "full":
        fill(small_tmpfs)
    elif kind == "ro":
        make_read_only(small_tmpfs)
    before = fingerprint(db)
    result = run_cli("troubleshoot", "--drift", "--json", "--db", db.secret(), env={"TMPDIR": str(tmpdir)})
    assert_no_crash(result)  # exit 1: the database is behind; upgrade-will-fail rehearsed on a scratch copy
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    report = json.loads(result.stdout)
    assert "upgrade-will-fail" in report["checks"] and [f["code"] for f in report["findings"]] == ["database-behind"]
    assert fingerprint(db) == before


@attack("other", "SQLite: the temporary folder turns read-only after Python chose it", "one line naming it")
def test_temporary_folder_gone_read_only(sqlite_db, small_tmpfs, monkeypatch):
    import tempfile

    from runbooks.database.scratch import scratch_database
    from runbooks.errors import RunbookError

    db = sqlite_db("26.0")
    monkeypatch.setattr(tempfile, "tempdir", str(small_tmpfs))  # chosen while it was writable
    make_read_only(small_tmpfs)
    before = fingerprint(db)
    with pytest.raises(RunbookError) as caught:
        with scratch_database(copy_of=db):
            pass
    assert f"cannot make a temporary folder in {small_tmpfs}" in str(caught.value), caught.value
    assert "read-only" in str(caught.value) and "TMPDIR" in str(caught.value)
    assert fingerprint(db) == before


@attack("other", "PostgreSQL: troubleshoot --drift with TMPDIR nearly full", "works (copies stay on the server)")
def test_postgresql_nearly_full_tmpdir(pg_db, small_tmpfs):
    db = pg_db("26.0")
    nearly_full(small_tmpfs)
    before = fingerprint(db)
    result = run_cli("troubleshoot", "--drift", "--json", "--db", db.secret(), env={"TMPDIR": str(small_tmpfs)})
    assert_no_crash(result)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr
    report = json.loads(result.stdout)
    assert "upgrade-will-fail" in report["checks"] and "database-behind" in [f["code"] for f in report["findings"]]
    assert fingerprint(db) == before
