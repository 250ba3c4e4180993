"""The Galaxy release a checkout's code says it is: ``lib/galaxy/version.py``, read with ``ast`` (never imported)."""

from __future__ import annotations

import ast
from pathlib import Path


def checkout_version(root: Path) -> str | None:
    """``VERSION_MAJOR`` + ``.VERSION_MINOR`` of ``root/lib/galaxy/version.py`` (``23.1.4``, ``26.1.dev0``);
    None without the file or its assignments."""
    path = Path(root) / "lib" / "galaxy" / "version.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = node.value.value
    major, minor = values.get("VERSION_MAJOR"), values.get("VERSION_MINOR")
    if not isinstance(major, str):
        return None
    return f"{major}.{minor}" if minor else major
