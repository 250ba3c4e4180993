"""Runbooks on a galaxy database and its separate tool shed install database (issue 25).

``run TASK --db URL --install-db URL`` (or ``$RUNBOOK_INSTALL_DB_URL``, or a checkout's
``install_database_connection``): the kernel gets both URLs by environment, never as a parameter,
and the runbooks read, move and show each database on its own branch. The pair here is made by
Galaxy 25.0's own code and upgraded by the runbook with 26.1's.
"""

from __future__ import annotations

import json
import sqlite3

from pair_databases import sqlite_pair

from runbooks.cli.main import main
from runbooks.code.install_model import install_tables
from runbooks.database.connections import inspect_database
from runbooks.settings import (
    DB_URL_ENV,
    GALAXY_ROOT_ENV,
    GALAXY_TSI_ENV,
    GALAXY_TSI_OVERRIDE_ENV,
    HOME_ENV,
    INSTALL_DB_URL_ENV,
)

from test_notebooks import outputs
from test_postgresql import PASSWORD, with_password

TSI_HEAD = "d4a650f47a3c"
WAY_OUT = "DROP INDEX IF EXISTS ix_job_params; DROP TABLE IF EXISTS _alembic_tmp_job;"


def _rows(db) -> list[str]:
    return sorted(inspect_database(db).alembic_rows or ())


def _clean_environment(monkeypatch, tmp_path):
    for name in (DB_URL_ENV, INSTALL_DB_URL_ENV, GALAXY_ROOT_ENV, GALAXY_TSI_ENV, GALAXY_TSI_OVERRIDE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))


def _saved_parameters(notebook) -> str:
    """The parameter cells of an executed copy: the notebook's own and the one papermill injects."""
    cells = json.loads(notebook.read_text())["cells"]
    tagged = [c for c in cells if {"parameters", "injected-parameters"} & set(c["metadata"].get("tags", []))]
    return "\n".join("".join(cell["source"]) for cell in tagged)


def test_run_upgrade_moves_a_pair_galaxy_25_made_each_branch_in_its_own(tmp_path, graph, env, monkeypatch, capsys):
    _clean_environment(monkeypatch, tmp_path)
    pair = sqlite_pair("25.0", tmp_path)
    assert _rows(pair.galaxy) == [graph.release_tags["25.0"]] and _rows(pair.install) == [TSI_HEAD]
    # On SQLite, 25.0's create_all leaves an index that 26.1's a5c5455b849a cannot rebuild: the rehearsal
    # fails and the tool prints this proven way out (tests/test_doctor_advice.py), which the admin applies
    with sqlite3.connect(pair.galaxy.sqlite_path) as conn:
        conn.executescript(WAY_OUT)
    conn.close()
    named = ["--db", pair.galaxy.secret(), "--install-db", pair.install.secret()]
    upgraded = tmp_path / "upgrade.ipynb"
    assert main(["run", "upgrade", *named, "-p", "confirm", "true", "-o", str(upgraded)]) == 0
    assert "Applied: upgrade to head" in capsys.readouterr().out
    # read back: each database at its head, holding its own branch only
    assert _rows(pair.galaxy) == graph.heads("gxy") and _rows(pair.install) == [TSI_HEAD]
    assert not install_tables(env) & inspect_database(pair.galaxy).tables
    shown = outputs(upgraded)
    assert f"tsi in the install database {pair.install}: behind" not in shown
    assert f"gxy in the galaxy database  {pair.galaxy}: behind" in shown  # before: the pair, each on its branch
    assert f"tsi in the install database {pair.install}: up-to-date" in shown
    assert "sqlite" not in _saved_parameters(upgraded)
    # run status on the pair, the install URL from the environment this time
    monkeypatch.setenv(INSTALL_DB_URL_ENV, pair.install.secret())
    status = tmp_path / "status.ipynb"
    assert main(["run", "status", "--db", pair.galaxy.secret(), "-o", str(status)]) == 0
    assert "The database is up-to-date" in capsys.readouterr().out
    shown = outputs(status)
    assert "State: up-to-date" in shown and f"tsi in the install database {pair.install}: up-to-date" in shown
    assert f"{TSI_HEAD} (head)" in shown and "sqlite" not in _saved_parameters(status)
    # and from a checkout whose galaxy.yml names both (install_database_connection), as Galaxy reads it
    monkeypatch.delenv(INSTALL_DB_URL_ENV)
    root = tmp_path / "galaxy"
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    pair.checkout_config(root)
    assert main(["run", "status", "--galaxy-root", str(root), "-o", str(status)]) == 0
    assert f"{pair.install} (" in capsys.readouterr().out  # the choice, as the run names it
    assert f"tsi in the install database {pair.install}: up-to-date" in outputs(status)


def test_run_status_on_a_postgresql_pair_never_saves_either_password(tmp_path, pg_database, monkeypatch, capsys):
    from runbooks.galaxy.commands import initialize

    _clean_environment(monkeypatch, tmp_path)
    galaxy, install = pg_database(), pg_database()
    initialize(galaxy, install_db=install)
    status = tmp_path / "status.ipynb"
    code = main(
        ["run", "status", "--db", with_password(galaxy), "--install-db", with_password(install), "-o", str(status)]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    saved = status.read_text()
    assert PASSWORD not in saved and PASSWORD not in out.out + out.err
    assert "tsi in the install database postgresql://postgres:***@" in outputs(status)
