"""``unbatched-data-change``: UPDATE or DELETE over a whole large table."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from runbooks.code.revision_source import RevisionSource, Statement
from runbooks.code.syntax import Function, callee_name, chain_names
from runbooks.lint.catalogue import BIG_TABLES, Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "unbatched-data-change",
    "warning",
    "UPDATE or DELETE over a whole large table",
    "An UPDATE/DELETE without WHERE on a large Galaxy table rewrites or removes every row "
    "in one transaction: it locks those rows for the whole run, bloats the table and can run "
    "for hours on a big server.",
    "Restrict the statement with a WHERE clause that touches only the rows that need the "
    "change, or process the table in batches (e.g. by id ranges) in a data-fix helper "
    "(see `galaxy.model.migrations.data_fixes`).",
)

SQL_DATA_CHANGE = re.compile(
    r"\b(?P<verb>UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?\"?(?P<table>\w+)\"?(?P<rest>[^;]*)",
    re.IGNORECASE,
)


def check(review: Review) -> Iterator[Finding]:
    source = review.source
    for statement in review.all_statements():
        if statement.kind != "execute" or not statement.call.args:
            continue
        if review.sql_of(statement) is not None:
            for match, table in review.big_table_matches(statement, SQL_DATA_CHANGE):
                if not re.search(r"\bWHERE\b", match.group("rest"), re.IGNORECASE):
                    yield _finding(statement, match.group("verb").split()[0].upper(), table)
            continue
        expression = source.resolve(statement.call.args[0], statement.ctx.function)
        names = chain_names(expression)
        verb = "UPDATE" if "update" in names else "DELETE" if "delete" in names else None
        if verb and "where" not in names and "filter" not in names:
            table = _expression_table(source, expression, statement.ctx.function)
            if review.big_table(table):
                yield _finding(statement, verb, table)


def _finding(statement: Statement, verb: str, table: str) -> Finding:
    return RULE.finding(
        statement.line,
        f"{verb} on `{table}` ({BIG_TABLES[table]}) without WHERE changes every row in one transaction",
    )


def _expression_table(source: RevisionSource, expression: ast.AST | None, function: Function | None) -> str | None:
    """The table of ``table.update()`` / ``sa.update(table)`` when it is ``sa.table("name", ...)``."""
    node = expression
    while isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("update", "delete"):
            target = func.value if not node.args else node.args[0]
            if isinstance(func.value, ast.Name) and func.value.id in ("sa", "sqlalchemy", "sql") and node.args:
                target = node.args[0]
            elif not node.args:
                target = func.value
            return _table_name(source, target, function)
        if isinstance(func, ast.Name) and func.id in ("update", "delete") and node.args:
            return _table_name(source, node.args[0], function)
        node = func.value if isinstance(func, ast.Attribute) else None
    return None


def _table_name(source: RevisionSource, node: ast.AST, function: Function | None) -> str | None:
    value = source.resolve(node, function)
    if isinstance(value, ast.Call) and callee_name(value) in ("table", "Table") and value.args:
        return source.string(value.args[0], function)
    return None
