"""The tables of Galaxy's tool shed install model (branch tsi), read from its source, never imported.

``galaxy/model/tool_shed_install/__init__.py`` declares them with ``__tablename__``; with a
separate install database they belong there and not in the galaxy database (Galaxy's
``verify_databases_via_script`` creates each model in its own database).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from runbooks.code.environment import GalaxyEnv

_TABLENAME = re.compile(r"""^\s+__tablename__\s*=\s*["']([A-Za-z0-9_]+)["']""", re.MULTILINE)


def install_tables(env: GalaxyEnv) -> frozenset[str]:
    """The install model's table names in ``env``'s code (empty when the file is not there)."""
    return _tables_in(env.migrations_dir.parent / "tool_shed_install" / "__init__.py")


@lru_cache(maxsize=8)
def _tables_in(path: Path) -> frozenset[str]:
    try:
        return frozenset(_TABLENAME.findall(path.read_text()))
    except OSError:
        return frozenset()
