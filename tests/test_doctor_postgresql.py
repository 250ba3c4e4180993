"""The doctor on a real PostgreSQL server: sessions, locks, orphans behind disabled triggers, states."""

from __future__ import annotations

import threading
import time

import pytest

from runbooks.database.connections import connect_postgresql
from runbooks.database.scratch import copy_database
from runbooks.doctor import diagnose
from runbooks.galaxy.commands import run_dbscript
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.samples import make_sample
from runbooks.testing.locks import idle_in_transaction
from runbooks.testing.scratch_states import BEHIND_RELEASE, LEFTOVER, execute_sql, galaxy_verdicts, make_state


@pytest.fixture(scope="module")
def pg_templates(pg_admin, graph):
    """A head and a 26.0 database made by Galaxy's own code, copied by TEMPLATE for each test."""
    import uuid

    names = [f"runbooks_doctor_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("head", "behind")]
    head, behind = (pg_admin.with_database(name) for name in names)
    make_sample(head, None, graph)
    make_sample(behind, BEHIND_RELEASE, graph)
    yield head, behind
    for db in (head, behind):
        execute_sql(pg_admin, [f'DROP DATABASE IF EXISTS "{db.database_name}" WITH (FORCE)'])


def _state(name, pg_database, pg_templates, graph):
    db = pg_database()
    make_state(name, db, graph, head=pg_templates[0], behind=pg_templates[1])
    return db


def test_healthy_postgresql_database(pg_templates, graph):
    report = diagnose(pg_templates[0], graph)
    assert not report.has_errors and report.own_findings == [], report.text()
    assert "blocked-by-locks" in report.checks


def test_states_on_postgresql(pg_database, pg_templates, graph):
    names = ["no-version-table", "unknown-revision", "multiple-current", "objects-already-exist", "missing"]
    dbs = {name: _state(name, pg_database, pg_templates, graph) for name in names}
    verdicts = dict(zip(names, galaxy_verdicts(list(dbs.values())), strict=True))
    assert verdicts["no-version-table"].startswith("NoVersionTableError")
    assert verdicts["missing"].startswith("DatabaseDoesNotExistError")
    assert diagnose(dbs["no-version-table"], graph).codes == ["no-version-table"]
    assert diagnose(dbs["unknown-revision"], graph).codes == ["unknown-revision"]
    assert diagnose(dbs["multiple-current"], graph, rehearse=False).codes == ["multiple-current-revisions"]
    assert diagnose(dbs["missing"], graph).codes == ["database-missing"]
    report = diagnose(dbs["objects-already-exist"], graph)
    table, column, revision = LEFTOVER
    assert report.codes == ["database-behind", "objects-already-exist", "upgrade-will-fail"], report.text()
    failure = report.get("upgrade-will-fail")
    assert revision in failure.summary and f'column "{column}" of relation "{table}" already exists' in (
        failure.summary
    )
    assert "PostgreSQL copy" in failure.summary


def test_orphans_behind_disabled_triggers(pg_database, pg_templates, graph):
    db = pg_database()
    copy_database(pg_templates[0], db)
    execute_sql(
        db,
        [
            "ALTER TABLE history DISABLE TRIGGER ALL",
            "INSERT INTO history (id, user_id, create_time, update_time, deleted, purged, importing, published) "
            "VALUES (7, 4242, now(), now(), false, false, false, false)",
        ],
    )
    item = diagnose(db, graph).get("foreign-key-orphans")
    assert item and "history.user_id" in item.summary and "id 7" in item.summary
    assert item.details["orphans"][0]["constraint"] == "history_user_id_fkey"
    execute_sql(db, ["ALTER TABLE history ENABLE TRIGGER ALL"])
    # Enforced again: only checked on request, and then still found.
    assert "foreign-key-orphans" not in diagnose(db, graph).codes
    assert "foreign-key-orphans" in diagnose(db, graph, every_foreign_key=True).codes


def test_idle_in_transaction_is_an_active_session(pg_database, pg_templates, graph):
    db = _state("behind", pg_database, pg_templates, graph)
    with idle_in_transaction(db, "job") as pid:
        report = diagnose(db, graph, rehearse=False)
        item = report.get("active-sessions")
        assert item and item.severity == "warning"
        assert f"pid {pid} idle in transaction" in item.summary and "holding locks on job" in item.summary
        assert f"SELECT pg_terminate_backend({pid});" in item.fix
    assert "active-sessions" not in diagnose(db, graph, rehearse=False).codes


def test_migration_blocked_by_a_session_then_finishing(pg_database, pg_templates, graph):
    """566b691307a5, the first revision after 26.0, alters `job`: it waits for the reader's lock."""
    db = _state("behind", pg_database, pg_templates, graph)
    result = {}
    with idle_in_transaction(db, "job") as blocker:
        upgrade = threading.Thread(target=lambda: result.setdefault("out", run_dbscript(db, "upgrade")))
        upgrade.start()
        item = None
        for _ in range(100):
            report = diagnose(db, graph)
            item = report.get("blocked-by-locks")
            if item:
                break
            time.sleep(0.2)
        assert item is not None, report.text()
        assert item.severity == "error" and f"pid {blocker}" in item.summary
        assert item.details["blockers"] == [blocker]
        assert item.details["terminate"] == [f"SELECT pg_terminate_backend({blocker});"]
        assert "forgotten-psql" in item.summary and "idle in transaction" in item.summary
        assert report.skipped and report.skipped[0]["check"] == "upgrade-will-fail"  # no copy while locked
        assert upgrade.is_alive()
        # The doctor never ends a session itself.
        conn = connect_postgresql(db)
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (blocker,))
            assert cursor.fetchone()[0] == 1
        conn.close()
    upgrade.join(timeout=120)
    assert not upgrade.is_alive()
    assert not result["out"].errors
    assert set(read_rows(db)) == set(graph.heads())
    assert diagnose(db, graph).own_findings == []


def test_troubleshoot_notebook_on_postgresql(tmp_path, pg_database, pg_templates, graph):
    import json

    from runbooks.cli.notebook_run import run_notebook

    db = pg_database()
    copy_database(pg_templates[0], db)
    out = run_notebook("troubleshoot", db=db, output=tmp_path / "troubleshoot.ipynb", home=tmp_path / "home")
    notebook = json.loads(out.read_text())
    text = "\n".join("".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", []))
    assert "[ERROR] blocked-by-locks: pid" in text and "forgotten-psql" in text
    assert "SELECT pg_terminate_backend(" in text
    assert "The upgrade is still waiting: True" in text
    assert 'column "source_invocation_id" of relation "page" already exists' in text
    assert "objects-already-exist" in text and "schema-drift" in text
