"""``raw-op-call``: ``op.<operation>`` where a Galaxy helper exists."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from runbooks.code.operations import SIGNATURES
from runbooks.lint.catalogue import Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "raw-op-call",
    "warning",
    "`op.<operation>` where a Galaxy helper exists",
    "The helpers in `galaxy.model.migrations.util` wrap the Alembic operations: under "
    "`--repair` each one skips an object that already exists (or is already gone), and the "
    "ALTER-type ones (drop_column, alter_column, create_foreign_key, "
    "create_unique_constraint, drop_constraint) use batch mode on SQLite (with "
    "`legacy_alter_table`) and emit nothing in offline `--sql` mode. A raw `op.*` call "
    "gets none of that.",
    "Import the helper of the same name from `galaxy.model.migrations.util` and call it "
    "instead; `op.execute` and `op.get_bind` have no helper and are fine.",
)


def check(review: Review) -> Iterator[Finding]:
    for statement in review.all_statements():
        if statement.kind == "op" and statement.name in SIGNATURES:
            yield RULE.finding(
                statement.line,
                f"op.{statement.name}() bypasses Galaxy's helper {statement.name}() "
                "(SQLite batch mode, offline mode, --repair)",
                f"use `{statement.name}(...)` from galaxy.model.migrations.util (same arguments)",
            )
    for node in ast.walk(review.source.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "batch_alter_table"
            and review.source.is_op(node.func.value)
        ):
            yield RULE.finding(
                node.lineno,
                "op.batch_alter_table() by hand: Galaxy's ALTER-type helpers already use batch mode on SQLite",
                "call add_column / drop_column / alter_column / create_foreign_key / "
                "create_unique_constraint / drop_constraint from galaxy.model.migrations.util instead",
            )
