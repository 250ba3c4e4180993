"""What pending revisions need from a PostgreSQL server: SQL functions, and tables they alter.

Read from the revision files (``RevisionSource``, never imported). A function is looked for in
the file's strings and ``func.NAME(...)`` calls; only functions that not every server has are
listed (``FUNCTIONS``): Galaxy issue 18877 is ``04288b6a5b25`` calling ``gen_random_uuid()``,
built into PostgreSQL 13 and before that only in the ``pgcrypto`` extension. The tables are
those of the schema operations (helpers, ``op`` and batch operations) the direction runs on
PostgreSQL: altering one needs its ownership.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from runbooks.code.revision_source import RevisionSource, statements
from runbooks.code.revisions import RevisionGraph


@dataclass(frozen=True)
class FunctionNeed:
    name: str
    built_in_since: int | None  # server_version_num from which the core has it; None: never
    extension: str  # the extension that provides it otherwise


FUNCTIONS = {
    need.name: need
    for need in (
        FunctionNeed("gen_random_uuid", 130000, "pgcrypto"),
        FunctionNeed("gen_random_bytes", None, "pgcrypto"),
        FunctionNeed("digest", None, "pgcrypto"),
        FunctionNeed("crypt", None, "pgcrypto"),
        FunctionNeed("gen_salt", None, "pgcrypto"),
        FunctionNeed("uuid_generate_v4", None, "uuid-ossp"),
        FunctionNeed("uuid_generate_v1", None, "uuid-ossp"),
    )
}
CALL = re.compile(r"\b(" + "|".join(FUNCTIONS) + r")\s*\(")
CREATING = {"create_table", "create_index", "create_unique_constraint", "create_foreign_key", "create_view"}


@dataclass
class ServerNeeds:
    """For each need, the revisions that have it (in the order they run)."""

    functions: dict[str, list[str]] = field(default_factory=dict)
    altered_tables: dict[str, list[str]] = field(default_factory=dict)
    creates_objects: list[str] = field(default_factory=list)

    def add(self, mapping: dict[str, list[str]], key: str, revision: str) -> None:
        revisions = mapping.setdefault(key, [])
        if revision not in revisions:
            revisions.append(revision)


def functions_called(source: RevisionSource) -> set[str]:
    found = set()
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= set(CALL.findall(node.value))
        elif isinstance(node, ast.Attribute) and node.attr in FUNCTIONS:
            found.add(node.attr)
    return found


def readable_sources(graph: RevisionGraph, revisions: list[str]) -> Iterator[tuple[str, RevisionSource]]:
    """``(revision, its parsed file)`` for the revisions whose file can be read; the lint and the
    rehearsal report a broken file, so it is passed over here."""
    for rid in revisions:
        revision = graph.revisions.get(rid)
        if revision is None or revision.path is None:
            continue
        try:
            yield rid, RevisionSource.read(revision.path)
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue


def server_needs(graph: RevisionGraph, revisions: list[str], direction: str = "upgrade") -> ServerNeeds:
    """What running ``revisions`` in ``direction`` on PostgreSQL needs from the server."""
    needs = ServerNeeds()
    for rid, source in readable_sources(graph, revisions):
        for name in sorted(functions_called(source)):
            needs.add(needs.functions, name, rid)
        for statement in statements(source, direction):
            if statement.ctx.dialect == "sqlite" or statement.kind == "execute":
                continue
            if statement.name in CREATING and rid not in needs.creates_objects:
                needs.creates_objects.append(rid)
            table = source.table_of(statement)
            if table and statement.name != "create_table":
                needs.add(needs.altered_tables, table, rid)
    return needs
