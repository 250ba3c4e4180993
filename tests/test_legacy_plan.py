"""The plan for databases from before Alembic, on databases Galaxy 20.09 and 21.09 made themselves."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from runbooks.galaxy.commands import verdict
from runbooks.tasks.legacy_plan import release_of
from runbooks.tasks.migrate import read_rows

from conftest import RELEASE_FIXTURES, postgresql_from_release, run_cli, sqlite_from_release

MANIFEST = RELEASE_FIXTURES / "legacy-manifest.json"


def status_json(db) -> dict:
    result = run_cli("status", "--json", "--db", db.secret())
    assert result.returncode == 1, result.stderr  # a legacy database is never "healthy"
    return json.loads(result.stdout)


def test_the_committed_databases_are_the_ones_the_manifest_describes():
    releases = json.loads(MANIFEST.read_text())["releases"]
    assert set(releases) == {"20.9.1", "21.9.0", "22.1.1"}
    for release, entry in releases.items():
        for dialect in ("sqlite", "postgresql"):
            item = entry[dialect]
            data = (RELEASE_FIXTURES / item["file"]).read_bytes()
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (item["sha256"], item["size"]), item["file"]
            assert item["installed"]["galaxy-data"] == item["installed"]["galaxy-util"] == release


@pytest.mark.parametrize(
    "version, said",
    [
        (170, "Galaxy 20.09's last version"),
        (175, "between Galaxy 20.09 (170) and 21.09 (179)"),
        (179, "Galaxy 21.09's last version"),
        (181, "past 180: a development build of 22.05 from before Alembic"),
        (120, "older than Galaxy 20.09 (version 170)"),
    ],
)
def test_which_release_left_a_migrate_version(version, said):
    assert release_of(version) == said


def test_status_plans_a_2109_database_through_2201(tmp_path, graph):
    db = sqlite_from_release("21.9.0.migrate", tmp_path)
    report = status_json(db)
    assert report["state"] == "legacy-sqlalchemy-migrate" and report["legacy_migrate_version"] == 179
    first, second, third = report["legacy_plan"]
    assert first.startswith("1. Galaxy 22.01 (`git checkout release_22.01`") and "179 to 180: script 180" in first
    assert second.startswith("2. this code") and f"upgrade --rehearse --db {db.secret()}" in second
    assert graph.heads("gxy")[0] in second
    # SQLite only: the stop tests/replays/test_13528_migrate_below_180.py meets, and Galaxy's way past it.
    assert third.startswith("3. only if that rehearsal stops at cde5d2db77e7") and "upgrade --repair" in third


def test_a_database_past_180_is_planned_back_to_it_first(tmp_path):
    db = sqlite_from_release("21.9.0.migrate", tmp_path)
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.execute("UPDATE migrate_version SET version = 181")
    first, *_ = status_json(db)["legacy_plan"]
    assert "da88ded" in first and "downgrade --version 180" in first and "181 back to 180" in first


def test_a_database_at_180_needs_only_the_upgrade(tmp_path):
    db = sqlite_from_release("21.9.0.migrate", tmp_path)
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.execute("UPDATE migrate_version SET version = 180")
    only, sqlite_note = status_json(db)["legacy_plan"]
    assert only.startswith("1. this code") and "python -m runbooks upgrade" in only
    assert sqlite_note.startswith("2. only if")


# -- a database Galaxy 22.01 made: SQLAlchemy Migrate's last version, Alembic's starting point ----------


@pytest.mark.slow_release
def test_a_2201_database_hands_over_to_alembic_on_postgresql(pg_database, graph):
    db = postgresql_from_release("22.1.1.migrate", pg_database())
    assert verdict(db).startswith("SAMigrateError: ")
    upgraded = run_cli("upgrade", "--yes", "--db", db.secret())
    assert upgraded.returncode == 0, upgraded.stderr
    assert set(read_rows(db)) == set(graph.heads()) and verdict(db) == "OK"


@pytest.mark.slow_release
def test_a_2201_database_on_sqlite_stops_at_cde5d2db77e7(tmp_path):
    """22.01's create_all left job.session_id's foreign key without a name; the revision drops it by name."""
    db = sqlite_from_release("22.1.1.migrate", tmp_path)
    before = db.sqlite_path.read_bytes()
    rehearsal = run_cli("upgrade", "--rehearse", "--db", db.secret())
    assert rehearsal.returncode == 1
    assert "FAILED" in rehearsal.stdout and "cde5d2db77e7" in rehearsal.stdout
    assert "No such constraint: 'job_session_id_fkey'" in rehearsal.stdout
    assert db.sqlite_path.read_bytes() == before
