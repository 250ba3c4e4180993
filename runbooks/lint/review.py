"""What every content rule reads of one revision: its statements and the tables it creates."""

from __future__ import annotations

import re
from collections.abc import Iterator

from runbooks.code.revision_source import RevisionSource, Statement, statements
from runbooks.lint.catalogue import BIG_TABLES


class Review:
    """A revision file under review: the source, and the statements of upgrade() and downgrade()."""

    def __init__(self, source: RevisionSource) -> None:
        self.source = source
        self.statements = {top: statements(source, top) for top in ("upgrade", "downgrade")}
        self.created_tables = {
            table
            for statement in self.all_statements()
            if statement.name == "create_table" and statement.kind in ("helper", "op")
            for table in [source.table_of(statement)]
            if table
        }

    def all_statements(self) -> Iterator[Statement]:
        for found in self.statements.values():
            yield from found

    def big_table(self, table: str | None) -> bool:
        """A large Galaxy table (``BIG_TABLES``) that this revision does not create (new tables are empty)."""
        return bool(table) and table in BIG_TABLES and table not in self.created_tables

    def on_postgresql(self) -> Iterator[tuple[Statement, str | None]]:
        """What can lock a large table on PostgreSQL: every execute() (with ``None``: its SQL says
        which table), and every other statement on a large table (with the table's name)."""
        for statement in self.all_statements():
            if statement.ctx.dialect == "sqlite":
                continue
            if statement.kind == "execute":
                yield statement, None
            elif self.big_table(table := self.source.table_of(statement)):
                yield statement, table

    def sql_of(self, statement: Statement) -> str | None:
        """The SQL text of an execute(), when it can be read from the file."""
        if not statement.call.args:
            return None
        return self.source.string(statement.call.args[0], statement.ctx.function)

    def big_table_matches(self, statement: Statement, pattern: re.Pattern) -> Iterator[tuple[re.Match, str]]:
        """Matches of ``pattern`` (with a ``table`` group) in an execute()'s SQL that name a large table."""
        for match in pattern.finditer(self.sql_of(statement) or ""):
            if self.big_table(table := match.group("table")):
                yield match, table
