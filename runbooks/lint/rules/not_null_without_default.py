"""``not-null-without-default``: a NOT NULL column added without ``server_default``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from runbooks.code.syntax import callee_name
from runbooks.lint.catalogue import Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "not-null-without-default",
    "error",
    "A NOT NULL column added without `server_default`",
    "Existing rows have no value for the new column, so the ALTER TABLE fails on any table "
    "that already has rows (PostgreSQL: 'column ... contains null values'; SQLite refuses to "
    "add a NOT NULL column whose default is NULL). A Python-side `default=` does not help: "
    "it only applies to rows inserted by SQLAlchemy later.",
    "Give the column a `server_default` (e.g. `server_default=sa.false()`), or add it "
    "nullable, fill it with an UPDATE, then `alter_column(table, column, nullable=False)`.",
)


def check(review: Review) -> Iterator[Finding]:
    source = review.source
    for statement in review.all_statements():
        if statement.name != "add_column" or statement.kind == "execute":
            continue
        table = source.table_of(statement)
        if table and table in review.created_tables:
            continue
        function = statement.ctx.function
        column = source.resolve(source.argument(statement, "column"), function)
        if not isinstance(column, ast.Call) or callee_name(column) != "Column":
            continue
        nullable = source.resolve(source.keyword(column, "nullable"), function)
        if (
            isinstance(nullable, ast.Constant)
            and nullable.value is False
            and source.keyword(column, "server_default") is None
            and not source.is_true(source.keyword(column, "primary_key"), function)
        ):
            name = source.string(column.args[0], function) if column.args else None
            yield RULE.finding(
                statement.line,
                f"column `{name or '?'}` is added to `{table or '?'}` with nullable=False and no "
                "server_default: the ALTER TABLE fails as soon as the table has rows",
            )
