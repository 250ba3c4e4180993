"""The read-back: "Done" only when ``alembic_version`` holds the target, whatever Galaxy's command said.

Galaxy's command can return normally without the database reaching the target. Here a trigger
the database carries (a real SQLite trigger, Galaxy's code untouched) puts ``alembic_version``
back after Alembic writes the target's row: no exception, no database error, nothing in the
migration log says anything went wrong. Only reading the row back tells.
"""

from __future__ import annotations

import sqlite3

from runbooks.tasks.migrate import read_rows

from conftest import run_cli

AT_26_0 = "9930b68c85af"
NEXT = "566b691307a5"  # gxy@+1 from 26.0
TSI = "d4a650f47a3c"


def plant_version_trigger(path) -> None:
    """After Alembic stamps ``NEXT``, the row goes back to ``AT_26_0`` (the update's row count stays 1)."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"CREATE TRIGGER keep_version AFTER UPDATE ON alembic_version WHEN NEW.version_num = '{NEXT}' "
            f"BEGIN UPDATE alembic_version SET version_num = '{AT_26_0}' WHERE version_num = '{NEXT}'; END"
        )
    conn.close()


def test_galaxy_returning_normally_short_of_the_target_is_not_done(sqlite_db):
    db = sqlite_db("26.0")
    plant_version_trigger(db.sqlite_path)
    result = run_cli("upgrade", "gxy@+1", "--db", db.secret(), "--yes", "--no-backup")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT DONE" in result.stdout + result.stderr
    assert "Done" not in result.stdout.replace("NOT DONE", "")
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert set(read_rows(db)) == {AT_26_0, TSI}  # what the read-back saw is what the database holds
