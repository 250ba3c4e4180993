"""Has a newer Galaxy fixed a revision? The same revision id in the installed galaxy-data, guarded.

Galaxy issue 21699: 25.1.0/25.1.1's c0959ad462b2 added ``tool_landing_request.tool_id`` without
checking, and databases created at 24.2/25.0 already have it; 25.1.2 made the revision check first.
When a checkout's revision would create an object that exists, and the package installed with
the runbooks has the same revision asking ``*_exists`` before creating it, the way out is that
newer code, not dropping the user's column.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from runbooks.code.environment import GalaxyEnv
from runbooks.code.objects import CreatedObject, created_objects
from runbooks.code.revisions import read_revision
from runbooks.errors import UsageError


def installed_release() -> str:
    try:
        return version("galaxy-data")
    except PackageNotFoundError:
        return "the installed galaxy-data"


def fixed_in_package(obj: CreatedObject, env: GalaxyEnv) -> bool:
    """Does the installed package's copy of ``obj.revision`` check for ``obj`` before creating it?"""
    try:
        package = GalaxyEnv.from_package()
    except UsageError:
        return False
    if package.migrations_dir.resolve() == env.migrations_dir.resolve():
        return False
    for path in sorted(package.versions_dir("gxy").glob(f"{obj.revision}_*.py")):
        revision = read_revision(path, "gxy")
        if revision is None or revision.id != obj.revision:
            continue
        same = [made for made in created_objects(revision) if (made.kind, made.name, made.table) == _key(obj)]
        return bool(same) and all(made.guarded for made in same)
    return False


def _key(obj: CreatedObject) -> tuple:
    return obj.kind, obj.name, obj.table
