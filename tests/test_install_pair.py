"""A galaxy database and its separate tool shed install database, made by Galaxy's own code.

status and troubleshoot judge each database on the branch it holds; a version row in the wrong
database is found, and the fix the finding prints is run here with Galaxy's own DbScript.
"""

from __future__ import annotations

import json

import pytest
from pair_databases import sqlite_pair

from runbooks.cli.main import main
from runbooks.galaxy.commands import run_dbscript
from runbooks.settings import (
    DB_URL_ENV,
    GALAXY_DB_ENV,
    GALAXY_DB_OVERRIDE_ENV,
    GALAXY_ROOT_ENV,
    GALAXY_TSI_ENV,
    GALAXY_TSI_OVERRIDE_ENV,
    INSTALL_DB_URL_ENV,
)


@pytest.fixture
def checkout(tmp_path, env, monkeypatch):
    root = tmp_path / "galaxy"
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    names = (GALAXY_DB_ENV, GALAXY_DB_OVERRIDE_ENV, GALAXY_TSI_ENV, GALAXY_TSI_OVERRIDE_ENV)
    for name in (*names, DB_URL_ENV, INSTALL_DB_URL_ENV, GALAXY_ROOT_ENV):
        monkeypatch.delenv(name, raising=False)
    return root


def _json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_a_healthy_pair_is_clean_each_on_its_own_branch(tmp_path, checkout, capsys):
    pair = sqlite_pair("head", tmp_path)
    pair.checkout_config(checkout)
    code, status = _json(capsys, "status", "--json", "--galaxy-root", str(checkout))
    assert code == 0 and status["state"] == "up-to-date", status["state"]
    assert status["install_database"]["state"] == "up-to-date" and status["galaxy_database_state"] == "up-to-date"
    assert status["branches"]["tsi"]["current"] == ["d4a650f47a3c"] and status["misplaced_rows"] == []
    assert status["database_source"]["install_database"]["source"] == "galaxy-config"
    code, report = _json(capsys, "troubleshoot", "--json", "--no-rehearse", "--galaxy-root", str(checkout))
    assert code == 0 and not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
    assert main(["status", "--galaxy-root", str(checkout), "--history", "0"]) == 0
    text = capsys.readouterr().out
    assert f"tsi in the install database {pair.install}: up-to-date" in text
    # the galaxy database alone, named with --db: one database without its tsi row, as before
    code, alone = _json(capsys, "status", "--json", "--db", pair.galaxy.secret())
    assert code == 1 and alone["branches"]["tsi"]["current"] == [] and "install_database" not in alone


def test_a_tsi_row_in_the_galaxy_database_is_found_and_the_printed_fix_clears_it(tmp_path, capsys):
    pair = sqlite_pair("head", tmp_path)
    # Galaxy's DbScript runs an explicit revision against database_connection, whatever
    # install_database_connection says: `manage_db.sh upgrade tsi@head` puts tsi in the galaxy database
    run_dbscript(pair.galaxy, "upgrade", install_db=pair.install, revision="tsi@head")
    named = ["--db", pair.galaxy.secret(), "--install-db", pair.install.secret()]
    code, status = _json(capsys, "status", "--json", *named)
    assert code == 1 and [row["branch"] for row in status["misplaced_rows"]] == ["tsi"]
    assert status["state"] == "up-to-date"  # each database on its own branch: only the stray row is wrong
    code, report = _json(capsys, "troubleshoot", "--json", "--no-rehearse", *named)
    found = {f["code"]: f for f in report["findings"]}
    assert code == 1 and "branch-in-wrong-database" in found and "revision-missing-for-branch" not in found
    assert "manage_db.sh downgrade tsi@base" in found["branch-in-wrong-database"]["fix"]
    # the fix, as printed: Galaxy's downgrade tsi@base, run against database_connection
    run_dbscript(pair.galaxy, "downgrade", install_db=pair.install, revision="tsi@base")
    code, status = _json(capsys, "status", "--json", *named)
    assert code == 0 and status["misplaced_rows"] == [] and status["install_database"]["state"] == "up-to-date"


def test_a_combined_database_beside_an_install_database_shows_both_stray_row_and_tables(
    tmp_path, sqlite_db, capsys, graph, env
):
    combined = sqlite_db("head")
    install = sqlite_pair("head", tmp_path).install
    code, report = _json(
        capsys, "troubleshoot", "--json", "--no-rehearse", "--db", combined.secret(), "--install-db", install.secret()
    )
    found = {f["code"]: f for f in report["findings"]}
    assert code == 1 and set(found) >= {"branch-in-wrong-database", "install-tables-in-galaxy-database"}
    assert "tool_shed_repository" in found["install-tables-in-galaxy-database"]["details"]["tables"]
    assert report["install_database"] == install.masked()  # the report names both databases
    # the status runbook's outcome judges the pair as the CLI's status does: exit 1, not 0
    from runbooks.cli.runbook_outcome import status_outcome
    from runbooks.tasks.pair_status import pair_status

    status = pair_status(combined, install, graph, env)
    assert status.state == "up-to-date" and status_outcome(status, "see troubleshoot")[0] == 1


# -- upgrade, downgrade, restore: each branch in its own database ------------------------------


def _rows(db) -> list[str]:
    from runbooks.database.connections import inspect_database

    return sorted(inspect_database(db).alembic_rows or ())


def test_upgrade_with_a_separate_install_database_keeps_each_branch_in_its_own(
    tmp_path, checkout, capsys, graph, monkeypatch
):
    """The reported bug: `upgrade --yes --galaxy-root` ran tsi in the galaxy database and backed up only it.

    The install URL comes from Galaxy's override variable, as a deployment sets it; the tool's Galaxy
    worker used to drop that variable, so Galaxy's `upgrade` sent tsi@head to database_connection.
    """
    from runbooks.settings import HOME_ENV

    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    pair = sqlite_pair("behind", tmp_path)
    pair.checkout_config(checkout, install_in_file=False)
    monkeypatch.setenv(GALAXY_TSI_OVERRIDE_ENV, pair.install.secret())
    assert _rows(pair.galaxy) == ["6925fe4c8a17"] and _rows(pair.install) == ["d4a650f47a3c"]
    code = main(["upgrade", "--yes", "--galaxy-root", str(checkout)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert _rows(pair.galaxy) == graph.heads("gxy") and _rows(pair.install) == ["d4a650f47a3c"]
    backups = sorted((tmp_path / "home" / "backups").glob("*.sqlite"))
    assert len(backups) == 2 and len(list((tmp_path / "home" / "backups").glob("*.set.json"))) == 1
    restore_line = next(line for line in out.splitlines() if line.startswith("Backup:"))
    assert "--galaxy-root" in restore_line and "restores the pair" in out
    # downgrade: the gxy branch moves in the galaxy database; the install database keeps its tsi row
    assert main(["downgrade", "26.1", "--yes", "--no-backup", "--galaxy-root", str(checkout)]) == 0
    assert _rows(pair.galaxy) == ["6925fe4c8a17"] and _rows(pair.install) == ["d4a650f47a3c"]
    capsys.readouterr()
    # downgrade base: each database to its base (Galaxy's plain `downgrade base` would leave tsi in place)
    assert main(["downgrade", "base", "--yes", "--no-backup", "--galaxy-root", str(checkout)]) == 0
    assert _rows(pair.galaxy) == [] and _rows(pair.install) == []
    capsys.readouterr()
    # the one printed restore command puts both back, from the set
    galaxy_backup = next(path for path in backups if path.with_name(path.name + ".set.json").exists())
    assert main(["restore", str(galaxy_backup), "--yes", "--galaxy-root", str(checkout)]) == 0
    assert _rows(pair.galaxy) == ["6925fe4c8a17"] and _rows(pair.install) == ["d4a650f47a3c"]


def test_restore_refuses_half_a_pair_and_a_single_backup_onto_a_pair(tmp_path, sqlite_db, capsys):
    from runbooks.database.backup import make_backup
    from runbooks.database.backup_set import make_backup_set

    pair = sqlite_pair("behind", tmp_path)
    backup_set = make_backup_set(pair.galaxy, pair.install, tmp_path / "backups")
    single = make_backup(pair.galaxy, tmp_path / "single")
    before = (pair.galaxy.sqlite_path.read_bytes(), pair.install.sqlite_path.read_bytes())
    both = ["--db", pair.galaxy.secret(), "--install-db", pair.install.secret()]
    attempts = {
        "half of a set onto one database": (backup_set.galaxy.path, ["--db", pair.galaxy.secret()]),
        "one database's backup onto a pair": (single.path, both),
        "a set onto another pair": (
            backup_set.galaxy.path,
            ["--db", sqlite_db("head").secret(), "--install-db", pair.install.secret()],
        ),
    }
    for name, (backup, selection) in attempts.items():
        assert main(["restore", str(backup), "--yes", *selection]) == 2, name
        assert "nothing was changed" in capsys.readouterr().err, name
    assert (pair.galaxy.sqlite_path.read_bytes(), pair.install.sqlite_path.read_bytes()) == before


def test_a_failure_in_the_galaxy_database_says_where_the_install_database_stands(tmp_path, capsys, monkeypatch):
    import sqlite3

    from runbooks.settings import HOME_ENV

    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    pair = sqlite_pair("behind", tmp_path)
    with sqlite3.connect(pair.galaxy.sqlite_path) as conn:  # the version row cannot move: the upgrade fails there
        conn.execute("CREATE TRIGGER held BEFORE UPDATE ON alembic_version BEGIN SELECT RAISE(ABORT, 'held'); END")
    named = ["--db", pair.galaxy.secret(), "--install-db", pair.install.secret()]
    assert main(["upgrade", *named]) == 2  # without --yes and a terminal: refused, naming both databases
    assert f"{pair.galaxy} and its install database {pair.install} would be changed" in capsys.readouterr().err
    code = main(["upgrade", "--yes", "--json", *named])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and not report["succeeded"]
    galaxy, install = report["outcome"]["standing"]
    assert galaxy.startswith(f"galaxy database {pair.galaxy}") and "6925fe4c8a17, NOT at its target" in galaxy
    assert install.startswith(f"install database {pair.install}") and "d4a650f47a3c, at its target" in install
    assert report["backup"]["install_path"].endswith(".sqlite") and report["backup"]["set"].endswith(".set.json")


def test_postgresql_pair_upgrades_downgrades_and_restores_as_one(pg_database, graph, tmp_path, capsys, monkeypatch):
    """Galaxy's own initialization with two URLs on PostgreSQL, then this tool's commands on the pair."""
    from runbooks.galaxy.commands import initialize
    from runbooks.settings import HOME_ENV

    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    galaxy, install = pg_database(), pg_database()
    initialize(galaxy, install_db=install)  # creates both databases, each model in its own
    run_dbscript(galaxy, "downgrade", install_db=install, revision="6925fe4c8a17")
    assert (_rows(galaxy), _rows(install)) == (["6925fe4c8a17"], ["d4a650f47a3c"])
    named = ["--db", galaxy.secret(), "--install-db", install.secret()]
    assert main(["upgrade", "--yes", "--json", *named]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (_rows(galaxy), _rows(install)) == (graph.heads("gxy"), ["d4a650f47a3c"])
    assert main(["downgrade", "base", "--yes", "--no-backup", *named]) == 0
    assert (_rows(galaxy), _rows(install)) == ([], [])
    capsys.readouterr()
    assert main(["restore", report["backup"]["path"], "--yes", *named]) == 0
    assert (_rows(galaxy), _rows(install)) == (["6925fe4c8a17"], ["d4a650f47a3c"])
