"""Which revision files name a table and a column: the revision that should have produced a column's shape."""

from __future__ import annotations

import re
from functools import cache

from runbooks.code.revisions import RevisionGraph


@cache
def _text(path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def revisions_naming(graph: RevisionGraph, table: str, column: str, among: set[str] | None = None) -> list[str]:
    """Revisions (in order) whose file names ``table`` and ``column`` as string literals."""
    quoted = [re.compile(rf"[\"']{re.escape(name)}[\"']") for name in (table, column) if name]
    order = graph.in_order(among=among if among is not None else set(graph.revisions))
    return [rid for rid in order if all(q.search(_text(graph.revisions[rid].path)) for q in quoted)]
