"""Which database, from where: the choice every command states, checked against Galaxy's own resolution.

Galaxy's scripts resolve a checkout's database with ``get_configuration_from_file`` (the code behind
``manage_db.sh``); the runbooks read the same files without importing Galaxy. Each layout here is
resolved by both and must give the same database. The warnings replay Galaxy issues 20614/15839:
Galaxy's default SQLite file (or the sample) chosen while another database is named elsewhere.
"""

from __future__ import annotations

import json

import pytest

from runbooks.code.galaxy_config import configured_database
from runbooks.settings import DB_URL_ENV, GALAXY_CONFIG_FILE_ENV, GALAXY_DB_ENV, GALAXY_DB_OVERRIDE_ENV, GALAXY_ROOT_ENV
from runbooks.tasks.selection import select

from conftest import run_cli
from galaxy_choice import GXY, bare_checkout, galaxys_url

PG = "postgresql://galaxy@db.example.org/galaxy"
GALAXY_ENV = (GALAXY_DB_ENV, GALAXY_DB_OVERRIDE_ENV, GALAXY_CONFIG_FILE_ENV)


@pytest.fixture
def checkout(tmp_path, env, monkeypatch):
    return bare_checkout(tmp_path, env, monkeypatch, GALAXY_ENV + (DB_URL_ENV, GALAXY_ROOT_ENV))


LAYOUTS = {
    "config/galaxy.yml": lambda root: (root / "config" / "galaxy.yml").write_text(
        f"galaxy:\n  database_connection: {PG}\n"
    ),
    "galaxy.yml at the root wins over config/": lambda root: (
        (root / "galaxy.yml").write_text("galaxy:\n  database_connection: sqlite:///root.sqlite\n"),
        (root / "config" / "galaxy.yml").write_text(f"galaxy:\n  database_connection: {PG}\n"),
    ),
    "universe_wsgi.ini": lambda root: (root / "config" / "universe_wsgi.ini").write_text(
        f"[app:main]\ndatabase_connection = {PG}\n"
    ),
    "relative sqlite path": lambda root: (root / "config" / "galaxy.yml").write_text(
        "galaxy:\n  database_connection: sqlite:///database/mine.sqlite\n"
    ),
    "no config: Galaxy's default": lambda root: None,
    "data_dir without database_connection": lambda root: (root / "config" / "galaxy.yml").write_text(
        "galaxy:\n  data_dir: /srv/data\n"
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_database_as_galaxys_scripts(layout, checkout, monkeypatch):
    LAYOUTS[layout](checkout)
    assert configured_database(checkout).url == galaxys_url(checkout, monkeypatch, GXY)


@pytest.mark.parametrize("variable", GALAXY_ENV[:2])
def test_galaxys_environment_variables_as_galaxy_reads_them(variable, checkout, monkeypatch):
    (checkout / "config" / "galaxy.yml").write_text("galaxy:\n  database_connection: sqlite:///file.sqlite\n")
    monkeypatch.setenv(variable, PG)
    ours = configured_database(checkout)
    assert ours.url == galaxys_url(checkout, monkeypatch, GXY)
    # the override wins over the file; the plain variable only fills a missing key
    assert (ours.source, ours.url == PG) == (
        ("galaxy-environment", True) if "OVERRIDE" in variable else ("galaxy-config", False)
    )


def test_default_file_with_a_database_named_elsewhere_warns(checkout, monkeypatch):
    other = checkout.parent / "config"  # the Ansible layout: server/ beside config/
    checkout = checkout.rename(checkout.parent / "server")
    other.mkdir()
    (other / "galaxy.yml").write_text(f"galaxy:\n  database_connection: {PG}\n")
    (checkout / "config" / "galaxy.yml.sample").write_text("galaxy:\n  database_connection: sqlite:///edited.sqlite\n")
    seen = []
    selection = select(galaxy_root=str(checkout), create_sample=False, announce=seen.append)
    assert (
        selection.source == "galaxy-default" and selection.db.sqlite_path == checkout / "database" / "universe.sqlite"
    )
    assert len(selection.warnings) == 2 and seen == [f"warning: {w}" for w in selection.warnings]
    assert str(other / "galaxy.yml") in selection.warnings[0] and "postgresql" in selection.warnings[0]
    assert "galaxy.yml.sample" in selection.warnings[1]
    assert "galaxy-default" == selection.to_json()["source"] and "has no" not in selection.origin
    # a configured checkout is not second-guessed
    (checkout / "config" / "galaxy.yml").write_text(f"galaxy:\n  database_connection: {PG}\n")
    assert select(galaxy_root=str(checkout), create_sample=False, announce=seen.append).warnings == []


def test_every_command_states_the_database_and_where_it_came_from(tmp_path, sqlite_db):
    db = sqlite_db("head")
    status = run_cli("status", "--db", db.secret())
    assert "Chosen by:   given with --db" in status.stdout
    env = {DB_URL_ENV: db.secret(), GALAXY_DB_ENV: ""}
    doctor = json.loads(run_cli("troubleshoot", "--json", env=env).stdout)
    assert doctor["database_source"] == {
        "url": db.masked(), "source": "environment", "from": "from $RUNBOOK_DB_URL", "warnings": []
    }  # fmt: skip
    plan = run_cli("upgrade", "--rehearse", "--db", db.secret())
    assert f"Database: {db} (given with --db)" in plan.stdout


def test_sample_while_galaxy_names_a_database_warns(monkeypatch):
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    monkeypatch.delenv(GALAXY_ROOT_ENV, raising=False)
    monkeypatch.setenv(GALAXY_DB_ENV, "postgresql://galaxy:secret@db.example.org/galaxy")
    seen = []
    selection = select(create_sample=False, announce=seen.append)
    assert selection.to_json()["source"] == "sample"
    (warning,) = selection.to_json()["warnings"]
    assert "$GALAXY_CONFIG_DATABASE_CONNECTION" in warning and "--galaxy-root" in warning
    assert "secret" not in warning and seen == [f"warning: {warning}"]
