"""``index-locks-table``: an index built on a large Galaxy table while writes are blocked."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from runbooks.code.revision_source import Statement
from runbooks.lint.catalogue import BIG_TABLES, Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "index-locks-table",
    "warning",
    "An index built on a large Galaxy table while writes are blocked",
    "A plain CREATE INDEX (Alembic also emits one for `index=True`/`unique=True` on an "
    "added column) holds a SHARE lock for the whole build, which blocks every write: on "
    "`job` or `history_dataset_association` no job can change state until the build ends "
    "(minutes on a big server). A unique constraint is worse: ALTER TABLE ... ADD "
    "CONSTRAINT ... UNIQUE builds its index under an ACCESS EXCLUSIVE lock, blocking reads "
    "too.",
    "Build the index concurrently, outside the migration's transaction: "
    "`with op.get_context().autocommit_block(): create_index(name, table, columns, "
    "postgresql_concurrently=True)` (the helper passes extra keywords to Alembic; SQLite "
    "ignores the option). For a unique constraint, create the unique index concurrently and "
    "attach it with `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX ...`. Or document "
    "in the release notes that Galaxy must be stopped for this upgrade.",
)

SQL_INDEX = re.compile(
    r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    r"(?:IF\s+NOT\s+EXISTS\s+)?(?:\"?\w+\"?\s+)?ON\s+(?:ONLY\s+)?\"?(?P<table>\w+)\"?",
    re.IGNORECASE,
)


def check(review: Review) -> Iterator[Finding]:
    for statement, table in review.on_postgresql():
        yield from _sql(review, statement) if table is None else _operation(review, statement, table)


def _sql(review: Review, statement: Statement) -> Iterator[Finding]:
    for match, table in review.big_table_matches(statement, SQL_INDEX):
        if not match.group("concurrently"):
            yield RULE.finding(
                statement.line,
                f"CREATE INDEX on `{table}` ({BIG_TABLES[table]}) without CONCURRENTLY blocks writes to it "
                "for the whole index build",
                "use CREATE INDEX CONCURRENTLY inside `with op.get_context().autocommit_block():` "
                "(it cannot run in a transaction)",
            )


def _operation(review: Review, statement: Statement, table: str) -> Iterator[Finding]:
    source, function = review.source, statement.ctx.function
    concurrently = source.is_true(source.keyword(statement.call, "postgresql_concurrently"), function)
    if statement.name == "create_index" and not concurrently:
        yield RULE.finding(
            statement.line,
            f"create_index on `{table}` ({BIG_TABLES[table]}) without postgresql_concurrently=True "
            "blocks writes to it for the whole index build",
        )
    elif statement.name == "create_unique_constraint":
        yield RULE.finding(
            statement.line,
            f"create_unique_constraint on `{table}` ({BIG_TABLES[table]}) builds a unique "
            "index under an ACCESS EXCLUSIVE lock (reads and writes blocked)",
        )
    elif statement.name == "add_column":
        column = source.resolve(source.argument(statement, "column"), function)
        marks = ("index", "unique") if isinstance(column, ast.Call) else ()
        keyword = next((k for k in marks if source.is_true(source.keyword(column, k), function)), None)
        if keyword:
            yield RULE.finding(
                statement.line,
                f"the column added to `{table}` ({BIG_TABLES[table]}) has {keyword}=True: "
                "its index is built while writes to the table are blocked",
                "add the column without index=True, then create the index in its own step with "
                "`create_index(..., postgresql_concurrently=True)` inside "
                "`with op.get_context().autocommit_block():`",
            )
