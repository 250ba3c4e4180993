"""Status and samples on a real PostgreSQL server (mandatory under CI=true)."""

from __future__ import annotations

import json

from runbooks.tasks.samples import make_sample
from runbooks.tasks.status import get_status

from conftest import run_cli
from test_status import assert_agrees_with_galaxy

PASSWORD = "Sup3r-Secret-pw"


def with_password(db):
    """Trust authentication ignores it, so it only tests masking: it must never be printed."""
    return db.url.set(password=PASSWORD).render_as_string(hide_password=False)


def test_missing_postgresql_database_is_reported_not_created(pg_database, pg_admin):
    db = pg_database()
    result = run_cli("status", "--json", "--db", db.secret())
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["state"] == "missing"
    from runbooks.database.connections import inspect_database

    assert not inspect_database(db).exists


def test_empty_postgresql_database(pg_database):
    db = pg_database(create=True)
    assert json.loads(run_cli("status", "--json", "--db", db.secret()).stdout)["state"] == "empty"


def test_sample_at_release_on_postgresql(pg_database, graph):
    db = pg_database()
    rows = make_sample(db, "25.1", graph)
    assert set(rows) == {"63dc6cca023f", "d4a650f47a3c"}
    result = run_cli("status", "--json", "--db", with_password(db))
    assert PASSWORD not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["dialect"] == "postgresql"
    assert report["state"] == "behind"
    assert report["branches"]["gxy"]["release"] == "25.1"
    assert report["database"].endswith(db.database_name) and ":***@" in report["database"]
    assert_agrees_with_galaxy(db, graph)
    human = run_cli("status", "--db", with_password(db))
    assert PASSWORD not in human.stdout + human.stderr
    assert get_status(db, graph).state == "behind"


def test_wrong_user_is_one_clear_line(pg_admin):
    url = pg_admin.url.set(username="no_such_role_here", password=PASSWORD).render_as_string(hide_password=False)
    result = run_cli("status", "--db", url)
    assert result.returncode == 2
    assert "refused the login" in result.stderr and PASSWORD not in result.stderr
