"""Galaxy issue 15701: "history not loading and "column collection_job_state_summary_view.skipped does not
exist"" — on 23.0 the view still had the columns it had before c39f1de47a04 (which re-made it with
``skipped``); the reporter dropped it and re-created it with the new query by hand.

Made the way the reporter's came to be, as far as the report tells: a database made by Galaxy 23.0.6's
own code (PostgreSQL, tests/fixtures/releases), with the view as it was before c39f1de47a04 — re-created
from that revision's own ``previous_aggregate_query`` (Galaxy's text, read from its file). The fix is the
reporter's: the view re-created from c39f1de47a04's ``new_aggregate_query``.
"""

from __future__ import annotations

import psycopg2
import pytest

from runbooks.code.revision_source import RevisionSource
from runbooks.doctor import diagnose
from runbooks.testing.scratch_states import execute_sql

from conftest import postgresql_from_release

REPORT = "https://github.com/galaxyproject/galaxy/issues/15701"
GALAXY_SAID = "column collection_job_state_summary_view.skipped does not exist (history not loading, 23.0)"
DOCTOR_CODE = "schema-differs-from-revision"
NOTE = (
    "Simulated cause: the report does not say how the view went stale; the test re-creates it from "
    "c39f1de47a04's previous query on a database 23.0.6 made"
)
VIEW = "collection_job_state_summary_view"
GALAXYS_QUERY = f"SELECT {VIEW}.skipped FROM {VIEW}"  # what Galaxy's history serializer selects


def _view_from(graph, query_name: str) -> list[str]:
    query, _ = RevisionSource.read(graph.revisions["c39f1de47a04"].path).literal(query_name)
    return [f"DROP VIEW IF EXISTS {VIEW}", f"CREATE VIEW {VIEW} AS {query}"]


def test_replay_15701(pg_database, graph):
    db = postgresql_from_release("23.0.6.data", pg_database())
    execute_sql(db, [GALAXYS_QUERY])  # 23.0.6's own view has the column
    execute_sql(db, _view_from(graph, "previous_aggregate_query"))
    with pytest.raises(psycopg2.errors.UndefinedColumn, match=f"column {VIEW}.skipped does not exist"):
        execute_sql(db, [GALAXYS_QUERY])
    item = diagnose(db, graph, rehearse=False).get(DOCTOR_CODE)
    assert item is not None and VIEW in item.summary and "c39f1de47a04" in item.summary, item
    assert item.details["missing"] == ["skipped"] and "3356bc2ecfc4" in item.fix  # 23.1's upgrade drops it
    execute_sql(db, _view_from(graph, "new_aggregate_query"))  # the reporter's fix
    execute_sql(db, [GALAXYS_QUERY])
    assert DOCTOR_CODE not in diagnose(db, graph, rehearse=False).codes
