"""A separate tool shed install (tsi) database: chosen as Galaxy's scripts choose it, or named directly.

Galaxy's ``get_configuration_from_file`` (behind ``manage_db.sh``) returns the gxy and tsi
configurations; the tsi URL is ``install_database_connection`` (file, then Galaxy's
``GALAXY_INSTALL_CONFIG_`` variables), else the galaxy database itself. Each layout here is
checked against Galaxy's own function.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.code.galaxy_config import configured_install_database
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import UsageError
from runbooks.settings import (
    DB_URL_ENV,
    GALAXY_DB_ENV,
    GALAXY_DB_OVERRIDE_ENV,
    GALAXY_ROOT_ENV,
    GALAXY_TSI_ENV,
    GALAXY_TSI_OVERRIDE_ENV,
    INSTALL_DB_URL_ENV,
)
from runbooks.tasks.selection import select

from galaxy_choice import TSI, bare_checkout, galaxys_url

GALAXY_VARIABLES = (GALAXY_DB_ENV, GALAXY_DB_OVERRIDE_ENV, GALAXY_TSI_ENV, GALAXY_TSI_OVERRIDE_ENV)
PG_INSTALL = "postgresql://galaxy@db.example.org/galaxy_install"


@pytest.fixture
def checkout(tmp_path, env, monkeypatch):
    return bare_checkout(
        tmp_path, env, monkeypatch, (*GALAXY_VARIABLES, DB_URL_ENV, INSTALL_DB_URL_ENV, GALAXY_ROOT_ENV)
    )


def _yml(root: Path, text: str) -> None:
    (root / "config" / "galaxy.yml").write_text("galaxy:\n" + text)


LAYOUTS = {
    "install_database_connection in galaxy.yml": (
        "  database_connection: sqlite:///database/g.sqlite\n  install_database_connection: sqlite:///database/t.sqlite\n",
        {},
    ),
    "no install_database_connection: the galaxy database": ("  database_connection: sqlite:///database/g.sqlite\n", {}),
    "the override variable beats the file": (
        "  install_database_connection: sqlite:///database/t.sqlite\n",
        {GALAXY_TSI_OVERRIDE_ENV: PG_INSTALL},
    ),
    "the plain variable fills in a missing key": (
        "  database_connection: sqlite:///g.sqlite\n",
        {GALAXY_TSI_ENV: PG_INSTALL},
    ),
    "the plain variable loses to the file": (
        "  install_database_connection: sqlite:///database/t.sqlite\n",
        {GALAXY_TSI_ENV: PG_INSTALL},
    ),
    "unset follows the galaxy database's override": ("", {GALAXY_DB_OVERRIDE_ENV: PG_INSTALL}),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_install_database_as_galaxys_scripts(layout, checkout, monkeypatch):
    text, variables = LAYOUTS[layout]
    _yml(checkout, text)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert configured_install_database(checkout).url == galaxys_url(checkout, monkeypatch, TSI)


def test_a_checkout_with_a_separate_install_database_selects_the_pair(checkout):
    _yml(checkout, "  database_connection: sqlite:///g.sqlite\n  install_database_connection: sqlite:///t.sqlite\n")
    selection = select(galaxy_root=str(checkout), create_sample=False, announce=lambda _: None)
    assert selection.db.sqlite_path == checkout / "g.sqlite"
    assert selection.install.db.sqlite_path == checkout / "t.sqlite"
    assert selection.install.source == "galaxy-config" and "install_database_connection" in selection.install.origin
    assert "--install-db" not in selection.database_args.words()  # the checkout names it again
    assert selection.to_json()["install_database"]["url"].endswith("t.sqlite")
    # the same file named twice is one combined database, as without the key
    _yml(checkout, "  database_connection: sqlite:///g.sqlite\n  install_database_connection: sqlite:///./g.sqlite\n")
    combined = select(galaxy_root=str(checkout), create_sample=False, announce=lambda _: None)
    assert combined.install is None and "install_database" not in combined.to_json()


def test_named_directly_the_pair_is_repeated_without_passwords(tmp_path, monkeypatch):
    monkeypatch.delenv(INSTALL_DB_URL_ENV, raising=False)
    gxy, tsi = f"sqlite:///{tmp_path}/g.sqlite", f"sqlite:///{tmp_path}/t.sqlite"
    selection = select(gxy, create_sample=False, announce=lambda _: None, install_db=tsi)
    assert selection.install.db.sqlite_path == tmp_path / "t.sqlite"
    assert selection.database_args.words()[2:] == ["--install-db", f"sqlite:///{tmp_path}/t.sqlite"]
    assert select(gxy, create_sample=False, announce=lambda _: None, install_db=gxy).install is None
    # from the environment, with a password: printed as the variable's name
    monkeypatch.setenv(INSTALL_DB_URL_ENV, "postgresql://u:s3cret@db.example.org/tsi")
    paired = select("postgresql://u@db.example.org/gxy", create_sample=False, announce=lambda _: None)
    words = paired.database_args.words()
    assert words[-2:] == ["--install-db", "'$RUNBOOK_INSTALL_DB_URL'"] and "s3cret" not in " ".join(words)
    assert "s3cret" not in paired.describe() and "s3cret" not in str(paired.to_json())
    with pytest.raises(UsageError, match="one kind of server"):
        select(gxy, create_sample=False, announce=lambda _: None, install_db="postgresql://u@h/tsi")


def test_install_db_without_a_galaxy_database_is_refused(monkeypatch):
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    monkeypatch.delenv(GALAXY_ROOT_ENV, raising=False)
    with pytest.raises(UsageError, match="pairs with a galaxy database"):
        select(create_sample=False, announce=lambda _: None, install_db="sqlite:///t.sqlite")
    assert DatabaseUrl.parse("sqlite:///t.sqlite").is_sqlite
