"""Galaxy issue 13617: "The context manager that is supposed to silence a migration error doesn't work
for postgresql" — with alembic_version emptied, `manage_db.sh upgrade` starts from the base and, on
PostgreSQL, a revision that finds its column already there aborts the whole transaction.

Made the way the reporter's was: a database Galaxy's own initialization made (26.1.2, PostgreSQL),
then `DELETE FROM alembic_version` (the issue's step 2).
"""

from __future__ import annotations

from runbooks.doctor import diagnose
from runbooks.tasks.migrate import read_rows
from runbooks.testing.scratch_states import execute_sql, stamp_sql

REPORT = "https://github.com/galaxyproject/galaxy/issues/13617"
GALAXY_SAID = "psycopg2.errors.InFailedSqlTransaction: current transaction is aborted (from `manage_db.sh upgrade`)"
DOCTOR_CODE = "revision-missing-for-branch"


def test_replay_13617(pg_db, graph):
    db = pg_db("head")
    execute_sql(db, ["DELETE FROM alembic_version"])
    report = diagnose(db, graph, drift=True)
    item = report.get(DOCTOR_CODE)
    assert item is not None, report.text()
    # Proof before the stamp: the schema is exactly what this code's head leaves.
    assert item.details.get("schema_matches_head") is True, report.text()
    assert "stamp" in item.fix and "ignore" not in item.fix.lower()
    execute_sql(db, stamp_sql(graph.heads()))
    assert set(read_rows(db)) == set(graph.heads())
    assert diagnose(db, graph).findings == []
