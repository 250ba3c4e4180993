"""Moving the tool shed install model combined -> separate -> combined with Galaxy's own model.

An installed repository's rows (written by Galaxy's install model) leave the galaxy database for a
database of their own and come back; after each move every install table reads back with the same
rows, the old copy is gone, and Galaxy's own startup check (``verify_databases``) accepts the layout.
"""

from __future__ import annotations

import pytest

from runbooks.errors import UsageError
from runbooks.galaxy.install_move import install_step
from runbooks.tasks.install_move import plan_move, run_move, status_after

TSI_HEAD = "d4a650f47a3c"


def _round_trip(galaxy, install, graph, env, backups):
    install_step("seed", galaxy)
    original = install_step("read", galaxy)
    assert sum(t["rows"] for t in original["tables"].values()) == 8 and original["revision"] == TSI_HEAD
    out = run_move(plan_move(galaxy, install, "separate", env), backups)
    assert out.done, out.result_lines()  # read back, and Galaxy's verify_databases with both URLs said OK
    assert out.target_after == original and out.galaxy_verdict == "OK"  # every row, as Galaxy's model reads it
    assert set(out.source_after["tables"].values()) == {None} and out.source_after["revision"] is None
    pair = status_after(out, graph, env)
    assert pair.pair.is_healthy and pair.state == "up-to-date" and not pair.pair.stray_tables
    # nothing moves twice: the galaxy database holds no tsi revision now
    with pytest.raises(UsageError, match="holds no tsi revision"):
        plan_move(galaxy, install, "separate", env)
    back = run_move(plan_move(galaxy, install, "combine", env), backups)
    assert back.done, back.result_lines()  # Galaxy's verify_databases on the galaxy database alone said OK
    assert back.target_after == original and back.galaxy_verdict == "OK"
    assert status_after(back, graph, env).state == "up-to-date"
    return out, back


def test_sqlite_combined_separate_combined_keeps_every_row(tmp_path, sqlite_db, graph, env):
    from runbooks.database.urls import DatabaseUrl

    galaxy, install = sqlite_db("head"), DatabaseUrl.parse(f"sqlite:///{tmp_path / 'install.sqlite'}")
    out, back = _round_trip(galaxy, install, graph, env, tmp_path)
    assert len(out.backups) == 1 and len(back.backups) == 2  # each database that existed, before it changed


def test_a_target_holding_install_rows_is_refused_unchanged(tmp_path, sqlite_db, env):
    from runbooks.tasks.install_move import practice_pair

    galaxy, install = practice_pair(sqlite_db("head"), tmp_path)
    other = sqlite_db("head")
    install_step("seed", other)
    before = other.sqlite_path.read_bytes()
    with pytest.raises(UsageError, match="already holds install rows"):
        plan_move(galaxy, other, "combine", env)
    with pytest.raises(UsageError, match="no install model to move from it"):
        plan_move(galaxy, install, "combine", env)  # the install database does not exist yet
    assert other.sqlite_path.read_bytes() == before and not install.sqlite_path.exists()


def test_postgresql_combined_separate_combined_keeps_every_row(tmp_path, pg_db, pg_database, graph, env):
    galaxy, install = pg_db("head"), pg_database()  # the install database does not exist: Galaxy's code makes it
    _round_trip(galaxy, install, graph, env, tmp_path)
    # the sequences follow the copied ids: Galaxy's model inserts the next repository without a clash
    install_step("seed", galaxy)
    assert install_step("read", galaxy)["tables"]["tool_shed_repository"]["rows"] == 4
