"""Which tables a revision names, and which of their rows it needs, read from its code (never imported).

For each statement ``upgrade()`` (or ``downgrade()``) runs on PostgreSQL (``statements`` in
``runbooks.code.revision_source``): a migration helper or ``op`` call names its table (its rows
are needed only for a non-unique ``create_index``: see ``runbooks.code.sql_tables``); an
``execute`` whose SQL text can be read is read with ``sql_tables.needs``. A revision that runs
SQL this reading cannot resolve (built by a function of Galaxy's, a loop over metadata) or hands
its connection to other code (a data fix module, ``op.get_bind()`` used for queries) is marked
``opaque``: its tables are learned from the SQL it really runs on the copy.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from runbooks.code.revision_source import RevisionSource, statements
from runbooks.code.sql_tables import needs

DDL_NEEDING_ROWS = {"create_index"}


@dataclass
class RevisionTables:
    named: set[str] = field(default_factory=set)  # every table its statements name
    reads: set[str] = field(default_factory=set)  # tables whose rows change its outcome
    writes: set[str] = field(default_factory=set)
    opaque: str = ""  # why its tables cannot be read from its code ("" when they can)


@cache
def revision_tables(path: Path, direction: str = "upgrade", dialect: str = "postgresql") -> RevisionTables:
    source = RevisionSource.read(path)
    result = RevisionTables()
    top = source.functions.get(direction)
    for statement in statements(source, direction):
        if statement.ctx.dialect not in (None, dialect):
            continue
        if statement.kind == "execute":
            sql = source.string(statement.call.args[0], statement.ctx.function) if statement.call.args else None
            if sql is None or "{?}" in sql:
                result.opaque = f"line {statement.line}: SQL built at run time"
                continue
            found = needs(sql)
            if found.unknown:
                result.opaque = f"line {statement.line}: {found.unknown}"
            result.reads |= found.reads
            result.writes |= found.writes
            result.named |= found.reads | found.writes
            continue
        table = source.table_of(statement)
        if table is None:
            result.opaque = result.opaque or f"line {statement.line}: {statement.name} on a table named at run time"
            continue
        result.named.add(table)
        unique = source.is_true(source.keyword(statement.call, "unique"), statement.ctx.function)
        if statement.name in DDL_NEEDING_ROWS and not unique:
            result.reads.add(table)
    if top is not None and not result.opaque and _hands_out_connection(source, top):
        result.opaque = "hands its database connection to other code (a data fix)"
    return result


def _hands_out_connection(source: RevisionSource, function) -> bool:
    """Does it pass a connection (``op.get_bind()`` or a name bound to one) to a call that is not a statement?"""
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or (isinstance(node.func, ast.Attribute) and node.func.attr == "execute"):
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if source.is_connection(arg, function) or (
                isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "get_bind"
            ):
                return True
    return False
