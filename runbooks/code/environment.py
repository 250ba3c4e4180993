"""Where Galaxy's migration environment lives: the installed package or a checkout.

Nothing here imports ``galaxy.model`` (it costs seconds); paths are found on disk.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from runbooks.errors import UsageError
from runbooks.settings import GALAXY_ROOT_ENV, GALAXY_VIRTUAL_ENV_ENV

BRANCHES = ("gxy", "tsi")
MIGRATIONS_SUBDIR = Path("galaxy") / "model" / "migrations"
LEGACY_SUBDIR = Path("galaxy") / "model" / "migrate"  # SQLAlchemy Migrate, up to 22.01


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
        root = galaxy_root or os.environ.get(GALAXY_ROOT_ENV)
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
        venv = Path(os.environ.get(GALAXY_VIRTUAL_ENV_ENV) or ".venv").expanduser()
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

    # -- the database a checkout is configured for (runbooks.code.galaxy_config) ----------

    def config_file(self) -> Path | None:
        from runbooks.code.galaxy_config import find_config_file

        return None if self.root is None else find_config_file(self.root)

    def configured_database_url(self) -> str:
        """``database_connection`` as Galaxy's scripts would resolve it for this checkout."""
        from runbooks.code.galaxy_config import configured_database

        if self.root is None:
            raise UsageError("no Galaxy checkout given: use --galaxy-root DIR or --db URL")
        return configured_database(self.root).url
