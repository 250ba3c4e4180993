"""Attack: ``downgrade base``, then ask the doctor what to do.

At base the database holds Galaxy's base schema with an empty version table. The doctor's fix
for "no gxy row" was "stamp fac9c76612f9, this code's head": run, it marks 82 unapplied
revisions applied. Stamp advice now needs proof from the schema (the tables and columns the
revisions create): the head only when all are there, never at base.
"""

from __future__ import annotations

import sqlite3

from runbooks.doctor.diagnosis import diagnose

from attacks import attack


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
