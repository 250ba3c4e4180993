"""Attack: follow the ``database-empty`` finding's advice, and check what it says about the other script.

The advice said "`manage_db.sh` refuses to migrate it", which the checked claim
``empty_sqlite_upgrade_exits_0_at_the_first_revision`` contradicts: nothing refuses an empty
database. The advice now names Galaxy's own initialization (``manage_db.sh init``, the path
``initialize`` runs) and warns off ``upgrade``; this test runs both on an empty SQLite file:
init leaves it up to date with no findings, upgrade returns normally and leaves only version rows.
"""

from __future__ import annotations

import sqlite3

from runbooks.database.urls import DatabaseUrl
from runbooks.doctor import diagnose
from runbooks.findings.catalogue import catalogue
from runbooks.galaxy.commands import initialize, run_dbscript
from runbooks.tasks.status import get_status

from attacks import attack


def _empty(path) -> DatabaseUrl:
    sqlite3.connect(path).close()
    return DatabaseUrl.parse(f"sqlite:///{path}")


def _tables(db: DatabaseUrl) -> set[str]:
    conn = sqlite3.connect(db.sqlite_path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


@attack("other", "the database-empty finding's advice, followed on an empty SQLite file", "init: up to date")
def test_database_empty_advice_is_true(tmp_path, graph):
    followed = _empty(tmp_path / "followed.sqlite")
    finding = next(f for f in diagnose(followed, graph).findings if f.code == "database-empty")
    usual = next(fix for code, _, _, fix in catalogue() if code == "database-empty")
    for advice in (finding.fix, usual):
        assert "manage_db.sh init" in advice and "not `manage_db.sh upgrade`" in advice.replace("Not", "not"), advice
        assert "exits 0 leaving only version rows" in advice and "refuses to" not in advice, advice

    initialize(followed)  # what `manage_db.sh init` runs: Galaxy's verify_databases_via_script
    assert get_status(followed, graph).state == "up-to-date"
    assert diagnose(followed, graph).findings == []

    warned = _empty(tmp_path / "warned.sqlite")
    run_dbscript(warned, "upgrade")  # returns normally: nothing refused the empty database
    assert _tables(warned) == {"alembic_version"}, _tables(warned)  # only version rows, no Galaxy table
    conn = sqlite3.connect(warned.sqlite_path)
    assert len(conn.execute("SELECT version_num FROM alembic_version").fetchall()) == 2
    conn.close()
