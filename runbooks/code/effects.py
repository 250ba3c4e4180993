"""What a revision does to a database, read from its source with ``ast`` (never imported).

The plan shows these per revision and dialect: a no-op on this dialect, one-way (its
downgrade does nothing), a data fix (rows changed, not restored by a downgrade), what a
downgrade drops, a merge (no schema change).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from runbooks.code.revisions import Revision

DATA_WORDS = ("UPDATE ", "DELETE FROM", "INSERT INTO")
DROPPERS = {"drop_table": "table", "drop_column": "column"}


def _function(module: ast.Module, name: str) -> ast.FunctionDef | None:
    return next((n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _body(function: ast.FunctionDef) -> list[ast.stmt]:
    """The statements, without a docstring."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    return body


def _is_pass(body: list[ast.stmt]) -> bool:
    return all(isinstance(stmt, ast.Pass) for stmt in body)


def _calls_is_sqlite(test: ast.expr) -> bool | None:
    """True for ``_is_sqlite()``, False for ``not _is_sqlite()``, None for anything else."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _calls_is_sqlite(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.Call) and getattr(test.func, "id", None) == "_is_sqlite":
        return True
    return None


def _runs_on(body: list[ast.stmt]) -> str | None:
    """'postgresql' or 'sqlite' when the whole body is guarded for one dialect, else None."""
    if len(body) == 1 and isinstance(body[0], ast.If) and not body[0].orelse:
        sqlite_guard = _calls_is_sqlite(body[0].test)
        if sqlite_guard is not None:
            return "sqlite" if sqlite_guard else "postgresql"
    if body and isinstance(body[0], ast.If) and _calls_is_sqlite(body[0].test) is True:
        if len(body[0].body) == 1 and isinstance(body[0].body[0], ast.Return):
            return "postgresql"
    return None


def _constants(module: ast.Module) -> dict[str, str]:
    names = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value.value
    return names


def _dropped(function: ast.FunctionDef, constants: dict[str, str]) -> list[str]:
    dropped = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name not in DROPPERS or not node.args:
            continue
        values = []
        for arg in node.args[:2]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                values.append(arg.value)
            elif isinstance(arg, ast.Name) and arg.id in constants:
                values.append(constants[arg.id])
        if values:
            dropped.append(f"{DROPPERS[name]} {'.'.join(values)}")
    return dropped


@dataclass(frozen=True)
class Effects:
    merge: bool
    upgrade_runs_on: str | None
    downgrade_runs_on: str | None
    one_way: bool
    data_fix: bool
    dialect_specific: bool
    drops_on_downgrade: tuple[str, ...]

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
        if self.data_fix:
            notes.append(
                "data fix: changes rows" + (" that a downgrade does not restore" if direction == "upgrade" else "")
            )
        if direction == "downgrade" and self.drops_on_downgrade:
            notes.append(f"drops {', '.join(self.drops_on_downgrade)} (data in it is lost)")
        return notes


@cache
def _effects(path: Path, is_merge: bool) -> Effects:
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source)
    upgrade, downgrade = _function(module, "upgrade"), _function(module, "downgrade")
    up_body = _body(upgrade) if upgrade else []
    down_body = _body(downgrade) if downgrade else []
    up_source = ast.get_source_segment(source, upgrade) or "" if upgrade else ""
    return Effects(
        merge=is_merge and _is_pass(up_body),
        upgrade_runs_on=_runs_on(up_body),
        downgrade_runs_on=_runs_on(down_body),
        one_way=_is_pass(down_body) and not _is_pass(up_body),
        data_fix=any(word in up_source.upper() for word in DATA_WORDS) or "data_fixes" in source,
        dialect_specific="_is_sqlite" in source or "dialect.name" in source,
        drops_on_downgrade=tuple(_dropped(downgrade, _constants(module))) if downgrade else (),
    )


def effects(revision: Revision) -> Effects:
    return _effects(revision.path, revision.is_merge)
