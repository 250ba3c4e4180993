"""Attack: ``downgrade base``, then ask status, upgrade and the doctor what to do.

At base the database holds Galaxy's base schema with an empty version table. The doctor's fix
for "no gxy row" was "stamp fac9c76612f9, this code's head": run, it marks 82 unapplied
revisions applied. Stamp advice now needs proof from the schema (the tables and columns the
revisions create): the head only when all are there, never at base. And base is a state the tool
reads as behind and upgrades from (as Galaxy's ``manage_db.sh upgrade`` does), not a dead end.
"""

from __future__ import annotations

import sqlite3

from runbooks.database.connections import inspect_database
from runbooks.doctor.diagnosis import diagnose
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.status import get_status

from attacks import assert_no_crash, attack
from conftest import run_cli


def fix_for_missing_gxy(db, graph) -> str:
    report = diagnose(db, graph)
    [finding] = [f for f in report.findings if f.code == "revision-missing-for-branch" and f.details["branch"] == "gxy"]
    return finding.fix


@attack("broken-state", "downgrade base, then the doctor's fix for the empty version table", "no stamp of the head")
def test_no_stamp_of_the_head_at_base(sqlite_db, graph):
    db = sqlite_db("base")
    head = graph.heads("gxy")[0]
    fix = fix_for_missing_gxy(db, graph)
    assert f"stamp {head}" not in fix and "do not stamp" in fix and "base" in fix, fix


@attack("broken-state", "a head database whose version rows were deleted", "stamp the head, proven by the schema")
def test_stamp_of_the_head_when_the_schema_has_everything(sqlite_db, graph):
    db = sqlite_db("head")
    conn = sqlite3.connect(db.sqlite_path)
    conn.execute("DELETE FROM alembic_version")
    conn.commit()
    conn.close()
    assert f"stamp {graph.heads('gxy')[0]}" in fix_for_missing_gxy(db, graph)


@attack("broken-state", "a 26.0 database whose version rows were deleted", "not the head: 26.0's revision")
def test_stamp_of_the_revision_the_schema_is_at(sqlite_db, graph):
    db = sqlite_db("26.0")
    conn = sqlite3.connect(db.sqlite_path)
    conn.execute("DELETE FROM alembic_version")
    conn.commit()
    conn.close()
    fix = fix_for_missing_gxy(db, graph)
    assert f"stamp {graph.heads('gxy')[0]}" not in fix and "stamp 9930b68c85af" in fix, fix


@attack("broken-state", "downgrade base (or sample --release 22.01), then upgrade", "status behind; upgrade Done")
def test_base_is_behind_and_upgrades(sqlite_db, graph):
    db = sqlite_db("base")
    status = get_status(db, graph)
    assert status.state == "behind" and status.branches["gxy"].pending[-1] == graph.heads("gxy")[0]
    result = run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup")
    assert_no_crash(result)
    assert result.returncode == 0 and "Done" in result.stdout, result.stdout[-2000:] + result.stderr
    assert set(read_rows(db)) == set(graph.heads())
    # every table of a database Galaxy made at head (Galaxy's own data-fix revisions leave backup tables too)
    assert inspect_database(sqlite_db("head")).tables <= inspect_database(db).tables
