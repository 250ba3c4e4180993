"""Which database a Galaxy checkout's scripts use, where that choice comes from, and what else names one.

Galaxy's ``manage_db.sh`` (``galaxy.model.migrations.scripts.get_configuration_from_file``) looks
for ``galaxy``/``universe_wsgi`` with a YAML or INI extension in the checkout, then in its
``config/`` folder (never a ``.sample``), reads ``database_connection`` from it, lets
``GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION`` win over the file and
``GALAXY_CONFIG_DATABASE_CONNECTION`` fill in when the file has no such key, and otherwise falls
back to ``database/universe.sqlite``. Read here without importing Galaxy (status must stay fast);
tests/test_database_source.py checks the result against Galaxy's own function.

Galaxy issues 20614 and 15839: an admin ran the scripts in a checkout whose configuration lives
elsewhere (an Ansible layout keeps it beside the server folder, ``GALAXY_CONFIG_FILE`` names it for
``run.sh``), so they silently used the default SQLite file. ``elsewhere`` finds those other places.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from runbooks.errors import UsageError
from runbooks.settings import (
    GALAXY_CONFIG_FILE_ENV,
    GALAXY_DB_ENV,
    GALAXY_DB_OVERRIDE_ENV,
    GALAXY_TSI_ENV,
    GALAXY_TSI_OVERRIDE_ENV,
)

CONFIG_STEMS = ("galaxy", "universe_wsgi")
CONFIG_EXTENSIONS = ("yaml", "yml", "ini")
KEY = "database_connection"
INSTALL_KEY = "install_database_connection"


@dataclass(frozen=True)
class ConfiguredDatabase:
    """The URL Galaxy's scripts would use for a checkout, and how it was found."""

    url: str
    source: str  # "galaxy-config" | "galaxy-environment" | "galaxy-default"
    origin: str  # for the reader: the file and key, the variable, or the default's rule
    config_file: Path | None = None


@dataclass(frozen=True)
class Elsewhere:
    """A database named somewhere Galaxy's scripts in this checkout would not look."""

    where: str
    url: str


@dataclass
class ConfigReading:
    properties: dict = field(default_factory=dict)
    path: Path | None = None


def find_config_file(root: Path) -> Path | None:
    """The file Galaxy's scripts read, run from ``root``: root first, then root/config."""
    for folder in (root, root / "config"):
        for stem in CONFIG_STEMS:
            for extension in CONFIG_EXTENSIONS:
                if (folder / f"{stem}.{extension}").is_file():
                    return folder / f"{stem}.{extension}"
    return None


def read_properties(path: Path | None) -> dict:
    """The ``galaxy:`` section of a YAML file, or ``[app:main]`` of an INI file."""
    if path is None or not path.is_file():
        return {}
    if path.name.removesuffix(".sample").endswith(".ini"):
        return _ini_properties(path)
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise UsageError(f"{path} is not valid YAML ({error.__class__.__name__}): fix the file") from None
    section = document.get("galaxy") if isinstance(document, dict) else None
    return section if isinstance(section, dict) else {}


def _ini_properties(path: Path) -> dict:
    parser = configparser.ConfigParser(defaults={"here": str(path.parent)}, interpolation=None)
    try:
        parser.read(path)
    except configparser.Error as error:
        raise UsageError(f"{path} is not a valid INI file ({error.__class__.__name__}): fix the file") from None
    return dict(parser.items("app:main")) if parser.has_section("app:main") else {}


def configured_database(root: Path) -> ConfiguredDatabase:
    """What Galaxy's scripts in ``root`` would connect to, with the reason."""
    path = find_config_file(root)
    properties = read_properties(path)
    override = os.environ.get(GALAXY_DB_OVERRIDE_ENV)
    if override:
        return ConfiguredDatabase(override, "galaxy-environment", f"${GALAXY_DB_OVERRIDE_ENV}", path)
    if properties.get(KEY):
        return ConfiguredDatabase(_rooted(str(properties[KEY]), root), "galaxy-config", f"{path}: {KEY}", path)
    if os.environ.get(GALAXY_DB_ENV):
        return ConfiguredDatabase(os.environ[GALAXY_DB_ENV], "galaxy-environment", f"${GALAXY_DB_ENV}", path)
    data_dir = Path(properties.get("data_dir") or root / "database")
    data_dir = data_dir if data_dir.is_absolute() else root / data_dir
    url = f"sqlite:///{data_dir / 'universe.sqlite'}?isolation_level=IMMEDIATE"
    read = f"{path} has no {KEY}" if path else f"no galaxy.yml in {root} or {root / 'config'}"
    return ConfiguredDatabase(url, "galaxy-default", f"Galaxy's default database/universe.sqlite ({read})", path)


def configured_install_database(root: Path, gxy: ConfiguredDatabase | None = None) -> ConfiguredDatabase:
    """The tool shed install (tsi) database Galaxy's scripts in ``root`` use, with the reason.

    As ``get_configuration_from_file`` reads it with the prefix ``GALAXY_INSTALL_CONFIG_``:
    ``GALAXY_INSTALL_CONFIG_OVERRIDE_INSTALL_DATABASE_CONNECTION`` beats the file's
    ``install_database_connection``, ``GALAXY_INSTALL_CONFIG_INSTALL_DATABASE_CONNECTION`` fills in
    without one, and otherwise it is the galaxy database itself (one database, both branches).
    """
    gxy = gxy or configured_database(root)
    path = gxy.config_file
    properties = read_properties(path)
    if os.environ.get(GALAXY_TSI_OVERRIDE_ENV):
        override = os.environ[GALAXY_TSI_OVERRIDE_ENV]
        return ConfiguredDatabase(override, "galaxy-environment", f"${GALAXY_TSI_OVERRIDE_ENV}", path)
    if properties.get(INSTALL_KEY):
        url = _rooted(str(properties[INSTALL_KEY]), root)
        return ConfiguredDatabase(url, "galaxy-config", f"{path}: {INSTALL_KEY}", path)
    if os.environ.get(GALAXY_TSI_ENV):
        return ConfiguredDatabase(os.environ[GALAXY_TSI_ENV], "galaxy-environment", f"${GALAXY_TSI_ENV}", path)
    return ConfiguredDatabase(gxy.url, gxy.source, f"no {INSTALL_KEY}: the galaxy database", path)


def _rooted(url: str, root: Path) -> str:
    """A relative SQLite path resolved against the Galaxy root: Galaxy's scripts run with the root as cwd."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # DatabaseUrl.parse says what is wrong with it
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if Path(database).expanduser().is_absolute():
        return url
    return parsed.set(database=str(root / database)).render_as_string(hide_password=False)


def candidate_files(root: Path | None) -> list[Path]:
    """Config files Galaxy's scripts in ``root`` do not read but an admin may have meant."""
    found = []
    if os.environ.get(GALAXY_CONFIG_FILE_ENV):
        found.append(Path(os.environ[GALAXY_CONFIG_FILE_ENV]).expanduser())
    if root is not None:
        for folder in (root.parent / "config", root.parent):  # the Ansible role's layout: server/ beside config/
            found += [folder / f"galaxy.{extension}" for extension in CONFIG_EXTENSIONS]
        for folder in (root, root / "config"):  # a sample edited instead of copied
            found += [folder / f"{stem}.{extension}.sample" for stem in CONFIG_STEMS for extension in CONFIG_EXTENSIONS]
    read = find_config_file(root) if root is not None else None
    unique = []
    for path in found:
        if path.is_file() and path != read and path not in unique:
            unique.append(path)
    return unique


def elsewhere(root: Path | None) -> list[Elsewhere]:
    """Databases named in the environment or in config files the scripts here would not read."""
    named = []
    for variable in (GALAXY_DB_OVERRIDE_ENV, GALAXY_DB_ENV):
        if os.environ.get(variable) and root is None:  # with a checkout, Galaxy (and we) use them
            named.append(Elsewhere(f"${variable}", os.environ[variable]))
    for path in candidate_files(root):
        try:
            url = read_properties(path).get(KEY)
        except UsageError:
            continue  # a broken file elsewhere is not this command's business
        if url:
            named.append(Elsewhere(f"{path}: {KEY}", str(url)))
    return named
