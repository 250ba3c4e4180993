"""``no-transaction``: several schema statements outside ``with transaction():``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from runbooks.code.revision_source import Statement
from runbooks.code.syntax import chain_names
from runbooks.lint.catalogue import Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "no-transaction",
    "warning",
    "Several schema statements outside `with transaction():`",
    "pysqlite does not open a transaction for DDL, so on SQLite a rollback does not undo "
    "the statements that already ran: when a later statement fails, the earlier ones stay "
    "applied while `alembic_version` is not moved, and the next attempt fails on objects "
    "that already exist. `transaction()` from `galaxy.model.migrations.util` issues an "
    "explicit BEGIN/END on SQLite (on PostgreSQL it does nothing: Alembic's transaction "
    "already covers DDL).",
    "Wrap the body of `upgrade()`/`downgrade()` in `with transaction():` "
    "(`from galaxy.model.migrations.util import transaction`).",
)

READS = re.compile(r"\s*(SELECT|WITH\s+\w+\s+AS\s*\(\s*SELECT|SHOW|EXPLAIN)\b", re.IGNORECASE)


def check(review: Review) -> Iterator[Finding]:
    for top, statements in review.statements.items():
        loose = [s for s in statements if not s.ctx.wrapped and s.ctx.dialect != "postgresql" and _counts(review, s)]
        weight = sum(2 if s.ctx.repeated else 1 for s in loose)
        if weight >= 2:
            numbers = sorted({s.line for s in loose})
            lines = ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")
            yield RULE.finding(
                review.source.functions[top].lineno,
                f"{top}() runs {'several' if any(s.ctx.repeated for s in loose) else len(loose)} "
                f"statements outside `with transaction():` (lines {lines}): on SQLite a failure "
                "half-way leaves the first ones applied",
            )


def _counts(review: Review, statement: Statement) -> bool:
    """Does this statement change the database?"""
    if statement.kind != "execute":
        return True
    sql = review.sql_of(statement)
    if sql is not None:
        return not READS.match(sql)
    call = statement.call
    expression = review.source.resolve(call.args[0], statement.ctx.function) if call.args else None
    return "select" not in chain_names(expression)
