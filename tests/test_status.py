"""The status contract, on databases made for real by Galaxy's own code."""

from __future__ import annotations

import json
import sqlite3

import pytest

from runbooks.database.urls import DatabaseUrl
from runbooks.galaxy import commands as galaxy_commands
from runbooks.tasks.status import dbversion_lines, get_status, history_lines, version_lines

from conftest import file_digest, run_cli

RELEASES = ["24.2", "25.0", "25.1", "26.0", "26.1"]


def status_json(db: DatabaseUrl) -> dict:
    result = run_cli("status", "--json", "--db", db.secret())
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def galaxy_lines(db: DatabaseUrl, command: str, **arguments) -> set[str]:
    return {line for line in galaxy_commands.run_dbscript(db, command, **arguments).stdout.splitlines() if line}


def assert_agrees_with_galaxy(db, graph):
    """Our reading equals what Galaxy's DbScript (db_dev.sh) prints for the same database."""
    status = get_status(db, graph)
    assert set(dbversion_lines(status, graph)) == galaxy_lines(db, "dbversion")
    assert set(version_lines(graph)) == galaxy_lines(db, "version")
    assert set(history_lines(graph, status.rows)) == galaxy_lines(db, "history", indicate_current=True)


def test_head_database_is_up_to_date(sqlite_db, graph):
    db = sqlite_db("head")
    report = status_json(db)
    assert report["state"] == "up-to-date"
    assert report["dialect"] == "sqlite"
    gxy, tsi = report["branches"]["gxy"], report["branches"]["tsi"]
    assert gxy["current"] == gxy["heads"] == graph.heads("gxy")
    assert tsi["current"] == tsi["heads"] == graph.heads("tsi")
    assert gxy["pending"] == [] and gxy["up_to_date"] and tsi["up_to_date"]
    assert gxy["release"] == f"26.1+{len(graph.ancestors(graph.heads('gxy')) - graph.ancestors(['6925fe4c8a17']))}"
    assert report["legacy_migrate_version"] is None


@pytest.mark.parametrize("release", RELEASES)
def test_database_at_release_tag(sqlite_db, graph, release):
    db = sqlite_db(release)
    report = status_json(db)
    gxy = report["branches"]["gxy"]
    assert gxy["current"] == [graph.tag_revision(release)]
    assert gxy["release"] == release
    assert report["state"] == "behind"
    assert gxy["pending"] == graph.pending(gxy["current"], "gxy")
    assert gxy["pending"][-1] == graph.heads("gxy")[0]
    assert_agrees_with_galaxy(db, graph)


def test_status_exit_codes_follow_the_state(sqlite_db):
    assert run_cli("status", "--db", sqlite_db("head").secret()).returncode == 0
    behind = run_cli("status", "--db", sqlite_db("25.0").secret())
    assert behind.returncode == 1
    assert "State:       behind" in behind.stdout and "manage_db.sh upgrade" in behind.stdout


def test_release_label_between_tags(graph):
    assert graph.release_label(["fb16d09348db"]) == "24.2+" + str(
        len(graph.ancestors(["fb16d09348db"]) - graph.ancestors(["a4c3ef999ab5"]))
    )
    assert graph.release_label(["e7b6dcb09efd"]) == "22.01+1"
    assert graph.release_label(["c716ee82337b", "fb16d09348db"]) == "25.0+1"
    assert graph.release_label(["d4a650f47a3c"]) is None  # tsi only


def test_galaxy_plain_downgrade_across_a_merge_is_multiple_current(sqlite_db, graph):
    db = sqlite_db("head")
    galaxy_commands.run_dbscript(db, "downgrade", revision="25.0")  # Galaxy's own command
    report = status_json(db)
    assert report["state"] == "multiple-current"
    assert sorted(report["branches"]["gxy"]["current"]) == ["c716ee82337b", "fb16d09348db"]
    assert_agrees_with_galaxy(db, graph)


def test_unknown_revision(sqlite_db, graph):
    db = sqlite_db("head")
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.execute(
            "UPDATE alembic_version SET version_num = 'abcdef123456' WHERE version_num = ?", graph.heads("gxy")
        )
    report = status_json(db)
    assert report["state"] == "unknown-revision"
    assert report["unknown_revisions"] == ["abcdef123456"]
    assert report["branches"]["gxy"]["release"] is None
    # Galaxy's own dbversion cannot even print it: Alembic gives up on the unknown id.
    from runbooks.errors import GalaxyCommandFailed

    with pytest.raises(GalaxyCommandFailed, match="CommandError: Can't locate revision identified by 'abcdef123456'"):
        galaxy_lines(db, "dbversion")


def test_gxy_row_missing(sqlite_db, graph):
    db = sqlite_db("head")
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.execute("DELETE FROM alembic_version WHERE version_num = ?", graph.heads("gxy"))
    assert status_json(db)["state"] == "revision-missing"


def test_legacy_sqlalchemy_migrate(sqlite_db, graph):
    """A 22.01-era database: Galaxy tables under SQLAlchemy Migrate's version table, no Alembic."""
    db = sqlite_db("head")
    with sqlite3.connect(db.sqlite_path) as conn:
        conn.execute("DROP TABLE alembic_version")
        conn.execute("CREATE TABLE migrate_version (repository_id VARCHAR(250), repository_path TEXT, version INTEGER)")
        conn.execute("INSERT INTO migrate_version VALUES ('Galaxy', 'lib/galaxy/model/migrate', 179)")
    report = status_json(db)
    assert report["state"] == "legacy-sqlalchemy-migrate"
    assert report["legacy_migrate_version"] == 179
    assert galaxy_lines(db, "dbversion") == set(dbversion_lines(get_status(db, graph), graph)) == set()


def test_empty_file_and_empty_database(tmp_path):
    empty_file = tmp_path / "empty.sqlite"
    empty_file.touch()
    assert status_json(DatabaseUrl.parse(f"sqlite:///{empty_file}"))["state"] == "empty"
    no_tables = tmp_path / "no_tables.sqlite"
    sqlite3.connect(no_tables).close()
    assert status_json(DatabaseUrl.parse(f"sqlite:///{no_tables}"))["state"] == "empty"


def test_non_galaxy_database_has_no_version_table(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    assert status_json(DatabaseUrl.parse(f"sqlite:///{path}"))["state"] == "no-version-table"
    # Galaxy's dbversion prints no revision for it either
    db = DatabaseUrl.parse(f"sqlite:///{path}")
    assert galaxy_lines(db, "dbversion") == set()


def test_missing_file_is_reported_not_created(tmp_path):
    path = tmp_path / "nowhere" / "universe.sqlite"
    report = status_json(DatabaseUrl.parse(f"sqlite:///{path}"))
    assert report["state"] == "missing"
    assert not path.exists() and not path.parent.exists()


def test_reading_never_writes(sqlite_db):
    db = sqlite_db("25.0")
    before = file_digest(db.sqlite_path)
    mtime = db.sqlite_path.stat().st_mtime_ns
    status_json(db)
    run_cli("status", "--db", db.secret())
    assert file_digest(db.sqlite_path) == before
    assert db.sqlite_path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in db.sqlite_path.parent.iterdir()) == [db.sqlite_path.name]


def test_menu_lists_the_tasks_and_quick_commands():
    result = run_cli()
    assert result.returncode == 0
    for task in ("create", "upgrade", "downgrade", "status", "troubleshoot"):
        assert f"  {task} " in result.stdout
    assert "./scripts/db_dev.sh history --indicate-current" in result.stdout


def test_status_never_imports_galaxy_model(sqlite_db):
    """The design's budget: status must not pay the 4-second model import."""
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\n"
        "from runbooks.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['status', '--json', '--db', sys.argv[1]])\n"
        "print('galaxy.model' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code, sqlite_db("25.0").secret()], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
