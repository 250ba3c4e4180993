"""``--version``: the tool's version, the galaxy-data it runs without a checkout, and a checkout's Galaxy."""

from __future__ import annotations

import sys
from importlib import metadata

from runbooks.paths import IMPORT_ROOT, program

DISTRIBUTION = "galaxy-migration-runbooks"


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_text(galaxy_root: str | None = None) -> str:
    from runbooks.code.environment import GalaxyEnv

    package = GalaxyEnv.from_package()
    lines = [
        f"{program()} {_installed(DISTRIBUTION)} ({IMPORT_ROOT / 'runbooks'})",
        f"galaxy-data {_installed('galaxy-data')}: the Galaxy code it runs without --galaxy-root "
        f"({package.migrations_dir.parent.parent})",
    ]
    if galaxy_root is not None:
        from runbooks.code.galaxy_version import checkout_version

        checkout = GalaxyEnv.from_checkout(galaxy_root)
        python = checkout.python
        runs_on = f"its virtualenv's {python}" if python else f"{sys.executable} (it has no virtualenv)"
        found = checkout_version(checkout.root)
        galaxy = f"Galaxy {found}" if found else "Galaxy of unknown version (no lib/galaxy/version.py)"
        lines.append(f"{galaxy}: the checkout {checkout.root}, run on {runs_on}")
    return "\n".join(lines)
