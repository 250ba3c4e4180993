"""Attacks with databases in broken states: version rows that are not revision ids, damaged files,
a writer's EXCLUSIVE lock, a crashed writer's hot journal.

Each is a named state (status, exit 1) and a doctor finding; upgrade refuses it with the fix;
nothing is changed. Where the fix is SQL, running it on a copy must give a database that
status reads as behind again: the fix deletes exactly the bad row.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from runbooks.database.urls import DatabaseUrl
from runbooks.testing.locks import sqlite_writer

from attacks import assert_no_crash, assert_refused, attack, fingerprint
from conftest import run_cli

LOOSE_TABLE = (
    "CREATE TABLE loose (version_num VARCHAR(32)); INSERT INTO loose SELECT version_num FROM alembic_version; "
    "DROP TABLE alembic_version; ALTER TABLE loose RENAME TO alembic_version;"
)
BAD_ROWS = [
    attack("broken-state", "a NULL row in alembic_version (SQLite)", "state invalid-version-rows; refused").param(
        "INSERT INTO alembic_version VALUES (NULL)", "no value"
    ),
    attack("broken-state", "a duplicate row in alembic_version (SQLite)", "state invalid-version-rows").param(
        "INSERT INTO alembic_version SELECT version_num FROM alembic_version LIMIT 1", "a duplicate"
    ),
    attack("broken-state", "an over-long row in alembic_version (SQLite)", "state invalid-version-rows").param(
        f"INSERT INTO alembic_version VALUES ('{'f' * 300}')", "longer than 32"
    ),
    attack("broken-state", "SQL and escape codes as a row (SQLite)", "named as ASCII, exact DELETE").param(
        "INSERT INTO alembic_version VALUES ('x''; DROP TABLE job; --' || char(27) || '[2J')", "characters no"
    ),
    attack("broken-state", "a BLOB row in alembic_version (SQLite)", "state invalid-version-rows").param(
        "INSERT INTO alembic_version VALUES (X'00FF')", "bytes, not text"
    ),
    attack("broken-state", "invalid UTF-8 in alembic_version (SQLite)", "state invalid-version-rows").param(
        "INSERT INTO alembic_version VALUES (CAST(X'FFFE41' AS TEXT))", "not valid UTF-8"
    ),
]


def sqlite_sql(db: DatabaseUrl, script: str) -> None:
    conn = sqlite3.connect(db.sqlite_path, isolation_level=None)
    try:
        conn.executescript(script)
    finally:
        conn.close()


def assert_invalid_rows_everywhere(db: DatabaseUrl, problem: str) -> list[str]:
    """status, troubleshoot and upgrade all name the bad row; returns the DELETE statements given."""
    before = fingerprint(db)
    status = run_cli("status", "--json", "--db", db.secret())
    assert status.returncode == 1, status.stderr
    assert_no_crash(status)
    document = json.loads(status.stdout)
    assert document["state"] == "invalid-version-rows"
    assert any(problem in row["problem"] for row in document["invalid_version_rows"])
    doctor = run_cli("troubleshoot", "--json", "--db", db.secret())
    assert doctor.returncode == 1 and "\x1b" not in doctor.stdout
    codes = [f["code"] for f in json.loads(doctor.stdout)["findings"]]
    assert "invalid-version-rows" in codes
    upgrade = run_cli("upgrade", "--yes", "--db", db.secret())
    line = assert_refused(upgrade, "not revision ids", "DELETE FROM alembic_version", code=1)
    assert "\x1b" not in line
    assert fingerprint(db) == before
    return [row["delete"] for row in document["invalid_version_rows"]]


@pytest.mark.parametrize("insert, problem", BAD_ROWS)
def test_invalid_version_rows_sqlite(insert, problem, sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    sqlite_sql(db, LOOSE_TABLE + insert)
    fixes = assert_invalid_rows_everywhere(db, problem)
    copy = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'fixed.sqlite'}")
    shutil.copyfile(db.sqlite_path, copy.sqlite_path)
    sqlite_sql(copy, " ".join(fixes))
    after = json.loads(run_cli("status", "--json", "--db", str(copy)).stdout)
    assert after["state"] == "behind" and len(after["alembic_version_rows"]) == 2


@attack("broken-state", "a revision id padded with blanks in alembic_version (SQLite)", "trim advice, not DELETE")
def test_padded_revision_row_is_trimmed_not_deleted(sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    sqlite_sql(
        db,
        LOOSE_TABLE
        + "UPDATE alembic_version SET version_num = ' ' || version_num || '  ' WHERE version_num = '9930b68c85af'",
    )
    status = run_cli("status", "--db", db.secret())
    assert (
        status.returncode == 1
        and "trim it with: UPDATE alembic_version SET version_num = '9930b68c85af'" in status.stdout
    )
    (row,) = json.loads(run_cli("status", "--json", "--db", db.secret()).stdout)["invalid_version_rows"]
    assert row["action"] == "trim" and row["delete"] is None
    upgrade = run_cli("upgrade", "--yes", "--db", db.secret())
    assert_refused(upgrade, "not revision ids", "fix them with: UPDATE alembic_version", code=1)
    sqlite_sql(db, row["fix"])
    after = json.loads(run_cli("status", "--json", "--db", db.secret()).stdout)
    assert after["state"] == "behind" and set(after["alembic_version_rows"]) == {"9930b68c85af", "d4a650f47a3c"}


PG_LOOSE = "ALTER TABLE alembic_version DROP CONSTRAINT alembic_version_pkc; "
PG_ROWS = [
    attack("broken-state", "a NULL row in alembic_version (PostgreSQL)", "state invalid-version-rows").param(
        PG_LOOSE + "ALTER TABLE alembic_version ALTER version_num DROP NOT NULL; "
        "INSERT INTO alembic_version VALUES (NULL)",
        "no value",
    ),
    attack("broken-state", "a duplicate row in alembic_version (PostgreSQL)", "state invalid-version-rows").param(
        PG_LOOSE + "INSERT INTO alembic_version SELECT version_num FROM alembic_version LIMIT 1", "a duplicate"
    ),
    attack("broken-state", "an over-long row in alembic_version (PostgreSQL)", "state invalid-version-rows").param(
        PG_LOOSE + "ALTER TABLE alembic_version ALTER version_num TYPE text; "
        f"INSERT INTO alembic_version VALUES ('{'f' * 300}')",
        "longer than 32",
    ),
]


@pytest.mark.parametrize("script, problem", PG_ROWS)
def test_invalid_version_rows_postgresql(script, problem, pg_db):
    from runbooks.database.scratch import run_statements

    db = pg_db("26.0")
    run_statements(db, [script])
    fixes = assert_invalid_rows_everywhere(db, problem)
    run_statements(db, [" ".join(fixes)])
    after = json.loads(run_cli("status", "--json", "--db", db.secret()).stdout)
    assert after["state"] == "behind" and len(after["alembic_version_rows"]) == 2


def assert_damaged(db: DatabaseUrl) -> None:
    before = fingerprint(db)
    status = run_cli("status", "--json", "--db", str(db))
    assert status.returncode == 1, status.stderr
    assert_no_crash(status)
    assert json.loads(status.stdout)["state"] == "damaged"
    doctor = run_cli("troubleshoot", "--json", "--db", str(db))
    assert_no_crash(doctor)
    assert [f["code"] for f in json.loads(doctor.stdout)["findings"]] == ["database-damaged"]
    assert_refused(run_cli("upgrade", "--yes", "--db", str(db)), "damaged", code=1)
    assert fingerprint(db) == before


@attack("broken-state", "invalid UTF-8 in sqlite_master", "state damaged, finding database-damaged; refused")
def test_schema_not_utf8(sqlite_db):
    db = sqlite_db("26.0")
    sqlite_sql(
        db,
        "CREATE TABLE x (a); PRAGMA writable_schema = ON; "
        "UPDATE sqlite_master SET name = CAST(X'FF41' AS TEXT), tbl_name = CAST(X'FF41' AS TEXT) WHERE name = 'x';",
    )
    assert_damaged(db)


@attack("broken-state", "a Galaxy database with a corrupt page (alembic_version's)", "state damaged; refused")
def test_corrupt_page(sqlite_db):
    db = sqlite_db("26.0")
    conn = sqlite3.connect(db.sqlite_path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'alembic_version'").fetchone()[0]
    conn.close()
    with open(db.sqlite_path, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xa5" * page_size)
    assert_damaged(db)


@attack("broken-state", "status/troubleshoot while another process holds an EXCLUSIVE lock", "names the pid, exit 1")
def test_exclusive_lock_is_named(sqlite_db):
    db = sqlite_db("26.0")
    with sqlite_writer(db, begin="EXCLUSIVE") as pid:
        before = fingerprint(db)
        assert_refused(run_cli("status", "--db", str(db)), f"locked by pid {pid}", code=1)
        doctor = run_cli("troubleshoot", "--json", "--db", str(db))
        assert doctor.returncode == 1 and doctor.stderr.strip() == ""
        findings = json.loads(doctor.stdout)["findings"]
        # other runs' leftovers beside the database are a note of their own (Report.own_findings)
        (finding,) = [f for f in findings if "leftovers" not in f["details"]]
        assert finding["code"] == "database-locked" and f"pid {pid}" in finding["summary"]
        assert "python" in finding["summary"]  # the holder's command line
        assert_refused(run_cli("upgrade", "--yes", "--db", str(db)), f"locked by pid {pid}", code=1)
        assert fingerprint(db) == before


def crash_mid_write(db: DatabaseUrl) -> Path:
    """A writer killed mid-transaction after its changes spilled into the file: a hot journal."""
    code = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size = 1')\n"
        "c.execute('BEGIN')\n"
        "c.execute(\"UPDATE alembic_version SET version_num = version_num || 'z'\")\n"
        "c.execute('CREATE TABLE spill (x)')\n"
        "c.executemany('INSERT INTO spill VALUES (randomblob(1000))', [()] * 3000)\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db.sqlite_path)], check=False)
    journal = Path(f"{db.sqlite_path}-journal")
    assert journal.stat().st_size > 0
    return journal


@attack("broken-state", "a hot rollback journal a crashed writer left", "named with SQLite's recovery; journal kept")
def test_hot_journal(sqlite_db):
    db = sqlite_db("26.0")
    journal = crash_mid_write(db)
    before = fingerprint(db)
    line = assert_refused(run_cli("status", "--db", str(db)), "hot rollback journal", "never delete", code=1)
    doctor = run_cli("troubleshoot", "--json", "--db", str(db))
    assert doctor.returncode == 1
    (finding,) = json.loads(doctor.stdout)["findings"]
    assert finding["code"] == "hot-journal" and "PRAGMA quick_check" in finding["fix"]
    assert_refused(run_cli("upgrade", "--yes", "--db", str(db)), "hot rollback journal", code=1)
    assert fingerprint(db) == before and journal.exists()
    # the recovery the line gives (a read-write open) brings back the database as it was
    assert "PRAGMA quick_check;" in line
    sqlite3.connect(db.sqlite_path).execute("PRAGMA quick_check").fetchall()
    after = json.loads(run_cli("status", "--json", "--db", str(db)).stdout)
    assert after["state"] == "behind" and not any(r.endswith("z") for r in after["alembic_version_rows"])


@attack("broken-state", "alembic_version: a revision and its own descendant", "not called a merge; a DELETE that works")
def test_a_row_and_its_descendant_are_not_a_merge(sqlite_db, tmp_path):
    from runbooks.errors import GalaxyCommandFailed
    from runbooks.galaxy.commands import run_dbscript

    db = sqlite_db("26.0")  # the schema is 26.0's; a stamp by hand adds the head's row
    sqlite_sql(db, "INSERT INTO alembic_version VALUES ('fac9c76612f9')")
    copy = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'copy.sqlite'}")
    shutil.copyfile(db.sqlite_path, copy.sqlite_path)
    with pytest.raises(GalaxyCommandFailed, match="overlaps"):  # what the old advice told the user to run
        run_dbscript(copy, "upgrade", revision="fac9c76612f9")
    doctor = run_cli("troubleshoot", "--json", "--db", db.secret())
    (finding,) = [f for f in json.loads(doctor.stdout)["findings"] if f["code"] == "multiple-current-revisions"]
    assert "9930b68c85af is an ancestor of fac9c76612f9" in finding["summary"] and "merge" not in finding["fix"]
    at_26_0 = re.search(r"at 9930b68c85af, `([^`]+)`", finding["fix"]).group(1)
    sqlite_sql(db, at_26_0)
    after = json.loads(run_cli("status", "--json", "--db", db.secret()).stdout)
    assert after["state"] == "behind" and set(after["alembic_version_rows"]) == {"9930b68c85af", "d4a650f47a3c"}
