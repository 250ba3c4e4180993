"""Upgrading databases that older Galaxy releases created themselves (tests/fixtures/releases).

What Galaxy does with them (galaxy-data 26.1.2): on SQLite, the 25.0.4 and 25.1.3 databases
stop at a5c5455b849a ("Drop Job.params column") because those releases created an index
ix_job_params that SQLite's batch rebuild re-creates after the column is gone; Galaxy's env
swallows the error and the command exits 0. Our upgrade must say NOT DONE, name the cause
and the way out; after the way out, it must reach head.
"""

from __future__ import annotations

import sqlite3

import pytest

from runbooks.tasks.migrate import read_rows

from conftest import OLD_RELEASES, postgresql_from_release, run_cli, sqlite_from_release

HEAD_ROWS = {"fac9c76612f9", "d4a650f47a3c"}


def test_sqlite_26_0_2_upgrades_to_head(tmp_path):
    db = sqlite_from_release("26.0.2", tmp_path)
    result = run_cli("upgrade", "--db", db.secret(), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Done: alembic_version read back" in result.stdout
    assert set(read_rows(db)) == HEAD_ROWS


@pytest.mark.parametrize("release", ["25.0.4", "25.1.3"])
def test_sqlite_index_left_by_old_release_stops_the_upgrade_truthfully(tmp_path, release):
    db = sqlite_from_release(release, tmp_path)
    result = run_cli("upgrade", "--db", db.secret(), "--yes")
    assert result.returncode == 1, result.stdout
    assert "NOT DONE" in result.stdout and "Done:" not in result.stdout
    assert "stopped while running: upgrade cd26484899fb -> a5c5455b849a" in result.stdout
    assert "no such column: params" in result.stdout  # the real error Galaxy's env swallowed
    assert "DROP INDEX IF EXISTS ix_job_params" in result.stdout
    assert set(read_rows(db)) != HEAD_ROWS
    # The way out we print works: drop the leftovers, upgrade again, reach head.
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.executescript("DROP INDEX IF EXISTS ix_job_params; DROP TABLE IF EXISTS _alembic_tmp_job;")
    again = run_cli("upgrade", "--db", db.secret(), "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert set(read_rows(db)) == HEAD_ROWS


@pytest.mark.parametrize("release", sorted(OLD_RELEASES))
def test_postgresql_release_databases_upgrade_to_head(pg_database, release):
    db = postgresql_from_release(release, pg_database())
    result = run_cli("upgrade", "--db", db.secret(), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(read_rows(db)) == HEAD_ROWS
