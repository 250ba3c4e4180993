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


def test_a_combined_database_beside_an_install_database_shows_both_stray_row_and_tables(tmp_path, sqlite_db, capsys):
    combined = sqlite_db("head")
    install = sqlite_pair("head", tmp_path).install
    code, report = _json(
        capsys, "troubleshoot", "--json", "--no-rehearse", "--db", combined.secret(), "--install-db", install.secret()
    )
    found = {f["code"]: f for f in report["findings"]}
    assert code == 1 and set(found) >= {"branch-in-wrong-database", "install-tables-in-galaxy-database"}
    assert "tool_shed_repository" in found["install-tables-in-galaxy-database"]["details"]["tables"]
