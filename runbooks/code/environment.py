"""Where Galaxy's migration environment lives: the installed package or a checkout.

Nothing here imports ``galaxy.model`` (it costs seconds); paths are found on disk.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from runbooks.errors import UsageError
from runbooks.paths import GALAXY_DB_OVERRIDE_ENV

BRANCHES = ("gxy", "tsi")
MIGRATIONS_SUBDIR = Path("galaxy") / "model" / "migrations"
LEGACY_SUBDIR = Path("galaxy") / "model" / "migrate"  # SQLAlchemy Migrate, up to 22.01
CONFIG_NAMES = ("galaxy.yml", "galaxy.yaml")


@dataclass(frozen=True)
class GalaxyEnv:
    """Galaxy's migrations directory, and the checkout it belongs to (None for the package)."""

    migrations_dir: Path
    root: Path | None = None

    @classmethod
    def from_package(cls) -> GalaxyEnv:
        spec = importlib.util.find_spec("galaxy")
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            candidate = Path(location) / "model" / "migrations"
            if (candidate / "alembic.ini").is_file():
                return cls(candidate)
        raise UsageError("galaxy-data is not installed: run `pip install -r requirements.txt`")

    @classmethod
    def from_checkout(cls, root: str | os.PathLike) -> GalaxyEnv:
        root = Path(root).expanduser().resolve()
        migrations = root / "lib" / MIGRATIONS_SUBDIR
        if not (migrations / "alembic.ini").is_file() and (root / "lib" / LEGACY_SUBDIR).is_dir():
            raise UsageError(
                f"{root} is Galaxy 22.01 or older (lib/{LEGACY_SUBDIR}: SQLAlchemy Migrate, no Alembic revisions): "
                "the runbooks drive releases with Alembic (22.05 on); give its database with --db instead of "
                "--galaxy-root and `status` prints the releases to step through"
            )
        if not (migrations / "alembic.ini").is_file():
            raise UsageError(
                f"{root} is not a Galaxy checkout (no lib/galaxy/model/migrations/alembic.ini): "
                "pass the directory that holds lib/ and config/"
            )
        return cls(migrations, root)

    @classmethod
    def locate(cls, galaxy_root: str | None = None) -> GalaxyEnv:
        """A checkout from the argument or GALAXY_ROOT, else the installed package."""
        root = galaxy_root or os.environ.get("GALAXY_ROOT")
        return cls.from_checkout(root) if root else cls.from_package()

    @property
    def alembic_ini(self) -> Path:
        return self.migrations_dir / "alembic.ini"

    @property
    def script_location(self) -> Path:
        return self.migrations_dir / "alembic"

    @property
    def dbrevisions_file(self) -> Path:
        return self.migrations_dir / "dbrevisions.py"

    @property
    def release_tags_file(self) -> Path | None:
        """Where this code keeps ``REVISION_TAGS``: dbrevisions.py (26.0 on), dbscript.py (23.0-25.1), or nowhere."""
        for name in ("dbrevisions.py", "dbscript.py"):
            if (self.migrations_dir / name).is_file():
                return self.migrations_dir / name
        return None

    @property
    def python(self) -> Path | None:
        """The checkout's own virtualenv interpreter, found as Galaxy's scripts find it.

        ``$GALAXY_VIRTUAL_ENV`` (relative to the root), else ``.venv`` in the root; None
        for the installed package or a checkout without one.
        """
        if self.root is None:
            return None
        venv = Path(os.environ.get("GALAXY_VIRTUAL_ENV") or ".venv").expanduser()
        python = (venv if venv.is_absolute() else self.root / venv) / "bin" / "python"
        return python if python.is_file() else None

    @property
    def lib_dir(self) -> Path:
        """The directory to put on sys.path so `import galaxy` finds this code."""
        return self.migrations_dir.parent.parent.parent

    def versions_dir(self, branch: str) -> Path:
        return self.script_location / f"versions_{branch}"

    def describe(self) -> str:
        return f"Galaxy checkout {self.root}" if self.root else f"galaxy-data package ({self.migrations_dir})"

    # -- the database a checkout is configured for --------------------------------

    def config_file(self) -> Path | None:
        if self.root is None:
            return None
        for folder in (self.root, self.root / "config"):
            for name in CONFIG_NAMES:
                if (folder / name).is_file():
                    return folder / name
        return None

    def configured_database_url(self) -> str:
        """``database_connection`` as Galaxy would resolve it for this checkout."""
        if self.root is None:
            raise UsageError("no Galaxy checkout given: use --galaxy-root DIR or --db URL")
        override = os.environ.get(GALAXY_DB_OVERRIDE_ENV)
        if override:
            return override
        properties = self._config_properties()
        if properties.get("database_connection"):
            return self._rooted(str(properties["database_connection"]))
        data_dir = Path(properties.get("data_dir") or self.root / "database")
        if not data_dir.is_absolute():
            data_dir = self.root / data_dir
        return f"sqlite:///{data_dir / 'universe.sqlite'}?isolation_level=IMMEDIATE"

    def _rooted(self, url: str) -> str:
        """A relative SQLite path resolved against the Galaxy root: Galaxy runs with the root as cwd."""
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            return url  # DatabaseUrl.parse says what is wrong with it
        database = parsed.database or ""
        if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return url
        if Path(database).expanduser().is_absolute():
            return url
        return parsed.set(database=str(self.root / database)).render_as_string(hide_password=False)

    def _config_properties(self) -> dict:
        path = self.config_file()
        if path is None:
            return {}
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise UsageError(f"{path} is not valid YAML ({error.__class__.__name__}): fix the file") from None
        section = document.get("galaxy") if isinstance(document, dict) else None
        return section if isinstance(section, dict) else {}
