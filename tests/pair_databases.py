"""Galaxy databases with a separate tool shed install database, made by Galaxy's own code.

Galaxy's ``verify_databases_via_script(gxy_config, tsi_config)`` with two URLs creates the galaxy
model in one database (stamped gxy@head) and the install model in the other (stamped tsi@head),
as on a first start with ``install_database_connection`` set. Made once per test run; tests get
copies. A pair behind is moved by Galaxy's own DbScript in the galaxy database; the ``25.0`` pair is
made by galaxy-data 25.0.4's own code (a checkout tree of that release, its own venv).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.urls import DatabaseUrl

from shared_run import made_once, run_folder

BEHIND = "6925fe4c8a17"  # release tag 26.1: one gxy revision below head, no merge crossed


@dataclass(frozen=True)
class Pair:
    galaxy: DatabaseUrl
    install: DatabaseUrl

    def checkout_config(self, root: Path, install_in_file: bool = True) -> None:
        """A checkout's config/galaxy.yml naming both, as an admin writes it (or the galaxy one alone)."""
        (root / "config").mkdir(parents=True, exist_ok=True)
        install = f"  install_database_connection: {self.install.secret()}\n" if install_in_file else ""
        (root / "config" / "galaxy.yml").write_text(
            f"galaxy:\n  database_connection: {self.galaxy.secret()}\n{install}"
        )


def _sqlite(path: Path) -> DatabaseUrl:
    return DatabaseUrl.parse(f"sqlite:///{path}")


def pair_store(state: str) -> Path:
    """A folder holding galaxy.sqlite and install.sqlite, made once: ``head``, ``behind`` (gxy at 26.1), or
    ``25.0`` (Galaxy 25.0's first start with two URLs: gxy at 25.0's head, tsi at its head)."""
    from runbooks.code.environment import GalaxyEnv
    from runbooks.galaxy.commands import initialize, run_dbscript

    def make(folder: Path) -> None:
        folder.mkdir()
        galaxy, install = _sqlite(folder / "galaxy.sqlite"), _sqlite(folder / "install.sqlite")
        env = GalaxyEnv.from_checkout(_release_tree("25.0.4", folder / "galaxy")) if state == "25.0" else None
        initialize(galaxy, env, install_db=install)
        if state == "behind":
            run_dbscript(galaxy, "downgrade", install_db=install, revision=BEHIND)

    folder = run_folder() / "samples"
    folder.mkdir(exist_ok=True)
    return made_once(folder / f"pair-{state}", make)


def _release_tree(version: str, dest: Path) -> Path:
    from test_checkouts import build_tree, release_venv  # the checkout-tree helpers of tests/fixtures

    return build_tree(version, dest, release_venv(version), symlink=True)


def sqlite_pair(state: str, into: Path) -> Pair:
    """A private copy of a pair Galaxy made."""
    store, tag = pair_store(state), uuid.uuid4().hex[:8]
    paths = [into / f"{tag}-{name}" for name in ("galaxy.sqlite", "install.sqlite")]
    for name, path in zip(("galaxy.sqlite", "install.sqlite"), paths, strict=True):
        shutil.copyfile(store / name, path)
    return Pair(*(_sqlite(path) for path in paths))
