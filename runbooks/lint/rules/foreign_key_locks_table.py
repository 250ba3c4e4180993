"""``foreign-key-locks-table``: a foreign key added to a large Galaxy table."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from runbooks.code.revision_source import Statement
from runbooks.code.syntax import callee_name
from runbooks.lint.catalogue import BIG_TABLES, Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "foreign-key-locks-table",
    "warning",
    "A foreign key added to a large Galaxy table",
    "Adding a foreign key validates every existing row while holding a SHARE ROW EXCLUSIVE "
    "lock on the table and on the table it references: writes to both stop for the length of "
    "the scan.",
    "Add the constraint without validation (`create_foreign_key(..., "
    "postgresql_not_valid=True)`, i.e. `ADD CONSTRAINT ... NOT VALID`), then validate it in a "
    "separate revision with `op.execute('ALTER TABLE <table> VALIDATE CONSTRAINT <name>')`, "
    "which only takes a SHARE UPDATE EXCLUSIVE lock.",
)

SQL_FOREIGN_KEY = re.compile(
    r"\bALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?\"?(?P<table>\w+)\"?(?P<rest>[^;]*?\b(?:FOREIGN\s+KEY|REFERENCES)\b[^;]*)",
    re.IGNORECASE,
)


def check(review: Review) -> Iterator[Finding]:
    for statement, table in review.on_postgresql():
        yield from _sql(review, statement) if table is None else _operation(review, statement, table)


def _sql(review: Review, statement: Statement) -> Iterator[Finding]:
    for match, table in review.big_table_matches(statement, SQL_FOREIGN_KEY):
        if not re.search(r"\bNOT\s+VALID\b", match.group("rest"), re.IGNORECASE):
            yield RULE.finding(
                statement.line,
                f"ALTER TABLE `{table}` ({BIG_TABLES[table]}) adds a foreign key that is validated against "
                "every row while the table is locked",
                "add it with NOT VALID, then run `ALTER TABLE ... VALIDATE CONSTRAINT ...` in a separate revision",
            )


def _operation(review: Review, statement: Statement, table: str) -> Iterator[Finding]:
    source, function = review.source, statement.ctx.function
    not_valid = source.is_true(source.keyword(statement.call, "postgresql_not_valid"), function)
    if statement.name == "create_foreign_key" and not not_valid:
        referent = source.string(source.argument(statement, "referent_table"), function) or "?"
        yield RULE.finding(
            statement.line,
            f"a foreign key on `{table}` ({BIG_TABLES[table]}) to `{referent}` is validated "
            f"against every row while writes to `{table}` and `{referent}` are blocked",
        )
    elif statement.name == "add_column":
        column = source.resolve(source.argument(statement, "column"), function)
        if isinstance(column, ast.Call) and any(
            isinstance(a, ast.Call) and callee_name(a) == "ForeignKey" for a in column.args
        ):
            yield RULE.finding(
                statement.line,
                f"the column added to `{table}` ({BIG_TABLES[table]}) carries a ForeignKey: "
                "the constraint is added and validated while the table is locked",
                "add the column without ForeignKey, then add the constraint with "
                "`create_foreign_key(..., postgresql_not_valid=True)` and validate it in a later "
                "revision (`ALTER TABLE ... VALIDATE CONSTRAINT ...`)",
            )
