"""What a revision does to a database, read from its source with ``ast`` (never imported).

The plan shows these per revision and dialect: a no-op on this dialect, one-way (its
downgrade does nothing), a data fix (rows changed, not restored by a downgrade), what a
step drops, a merge (no schema change). Data loss is flagged both ways: a column or table
the step drops (the reverse step recreates it empty, at best) and rows the step rewrites
(the reverse step does not put them back). ``losses`` lists them for the JSON plan.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from runbooks.code.revision_source import RevisionSource, dialect_of, is_early_return, other_dialect
from runbooks.code.revisions import Revision
from runbooks.code.syntax import Function, callee_name, is_only_pass, without_docstring

DATA_WORDS = ("UPDATE ", "DELETE FROM", "INSERT INTO")
DROPPERS = {"drop_table": "table", "drop_column": "column"}


def _runs_on(body: list[ast.stmt]) -> str | None:
    """'postgresql' or 'sqlite' when the whole body is guarded for one dialect, else None."""
    if len(body) == 1 and isinstance(body[0], ast.If) and not body[0].orelse:
        only = dialect_of(body[0].test)
        if only:
            return only
    if body and is_early_return(body[0]) and len(body[0].body) == 1:
        only = dialect_of(body[0].test)  # `if _is_sqlite(): return`: the rest runs on the other one
        if only:
            return other_dialect(only)
    return None


def _dropped(source: RevisionSource, function: Function) -> list[str]:
    dropped = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        name = callee_name(node)
        if name not in DROPPERS or not node.args:
            continue
        values = [text for arg in node.args[:2] if (text := _name(source, arg)) is not None]
        if values:
            dropped.append(f"{DROPPERS[name]} {'.'.join(values)}")
    return dropped


def _name(source: RevisionSource, node: ast.AST) -> str | None:
    """A string literal, or a module-level constant naming one."""
    if isinstance(node, ast.Name):
        node = source.module_names.get(node.id)
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


@dataclass(frozen=True)
class Effects:
    merge: bool
    upgrade_runs_on: str | None
    downgrade_runs_on: str | None
    one_way: bool
    data_fix: bool
    dialect_specific: bool
    drops_on_downgrade: tuple[str, ...]
    drops_on_upgrade: tuple[str, ...] = ()
    downgrade_rewrites_rows: bool = False

    def losses(self, direction: str, dialect: str) -> list[str]:
        """What this step loses for good in ``direction`` on ``dialect``: drops, rewrites the reverse does not undo."""
        if self.merge:
            return []
        runs_on = self.upgrade_runs_on if direction == "upgrade" else self.downgrade_runs_on
        if runs_on and runs_on != dialect:
            return []
        drops = self.drops_on_upgrade if direction == "upgrade" else self.drops_on_downgrade
        reverse = "a downgrade" if direction == "upgrade" else "an upgrade"
        lost = [f"drops {', '.join(drops)} (data in it is lost: {reverse} does not bring it back)"] if drops else []
        if self.data_fix and direction == "upgrade":
            lost.append("data fix: changes rows that a downgrade does not restore")
        if self.downgrade_rewrites_rows and direction == "downgrade":
            lost.append("changes rows that an upgrade does not restore")
        return lost

    def notes(self, direction: str, dialect: str) -> list[str]:
        if self.merge:
            return ["merge revision: no schema change"]
        notes = []
        runs_on = self.upgrade_runs_on if direction == "upgrade" else self.downgrade_runs_on
        if runs_on and runs_on != dialect:
            notes.append(f"no-op on {dialect} (only does something on {runs_on})")
        elif self.dialect_specific:
            notes.append("does different things on SQLite and PostgreSQL")
        if direction == "upgrade" and self.one_way:
            notes.append("one-way: its downgrade does nothing")
        if direction == "downgrade" and self.one_way:
            notes.append("one-way: this downgrade step changes nothing but the version table")
        if self.data_fix and direction == "downgrade":
            notes.append("data fix: the rows its upgrade changed stay as they are")
        return notes + self.losses(direction, dialect)


@cache
def _effects(path: Path, is_merge: bool) -> Effects:
    source = RevisionSource.read(path)
    upgrade, downgrade = source.functions.get("upgrade"), source.functions.get("downgrade")
    up_body = without_docstring(upgrade) if upgrade else []
    down_body = without_docstring(downgrade) if downgrade else []
    up_source = ast.get_source_segment(source.text, upgrade) or "" if upgrade else ""
    down_source = ast.get_source_segment(source.text, downgrade) or "" if downgrade else ""
    return Effects(
        merge=is_merge and is_only_pass(up_body),
        upgrade_runs_on=_runs_on(up_body),
        downgrade_runs_on=_runs_on(down_body),
        one_way=is_only_pass(down_body) and not is_only_pass(up_body),
        data_fix=any(word in up_source.upper() for word in DATA_WORDS) or "data_fixes" in source.text,
        dialect_specific="_is_sqlite" in source.text or "dialect.name" in source.text,
        drops_on_downgrade=tuple(_dropped(source, downgrade)) if downgrade else (),
        drops_on_upgrade=tuple(_dropped(source, upgrade)) if upgrade else (),
        downgrade_rewrites_rows=any(word in down_source.upper() for word in DATA_WORDS),
    )


def effects(revision: Revision) -> Effects:
    return _effects(revision.path, revision.is_merge)
