"""What a revision's ``upgrade()`` creates, read from the file with ``ast`` (never imported).

Galaxy's revisions name their objects with module-level constants, f-strings and the
``build_*_name`` helpers of ``galaxy.model.database_object_names``; this module evaluates
exactly those (and nothing else) to find the tables, columns, indexes and constraints an
upgrade would create, so the doctor can tell which of them already exist in a database.
"""

from __future__ import annotations

import ast
import re
import sqlite3
from dataclasses import dataclass

from runbooks.code.revision_source import RevisionSource
from runbooks.code.revisions import Revision
from runbooks.code.syntax import callee_name
from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl

CREATORS = {"create_table", "add_column", "create_index", "create_unique_constraint", "create_foreign_key"}
KIND = {
    "create_table": "table",
    "add_column": "column",
    "create_index": "index",
    "create_unique_constraint": "constraint",
    "create_foreign_key": "constraint",
}


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class CreatedObject:
    revision: str
    kind: str  # table, column, index, constraint
    name: str
    table: str | None = None
    repairable: bool = True  # made by a Galaxy util helper, which `--repair` skips when it exists
    guarded: bool = False  # inside `if not column_exists(...)` (or table_/index_exists): skipped when it exists

    def describe(self) -> str:
        if self.kind == "table":
            return f"table {self.name}"
        if self.kind == "column":
            return f"column {self.table}.{self.name}"
        return f"{self.kind} {self.name} on {self.table}"

    def drop_statement(self, dialect: str) -> str:
        if self.kind == "table":
            return f"DROP TABLE {self.name};"
        if self.kind == "column":
            return f"ALTER TABLE {self.table} DROP COLUMN {self.name};"
        if self.kind == "index":
            return f"DROP INDEX {self.name};"
        if dialect == "sqlite":  # SQLite cannot drop a constraint: the table must be rebuilt
            return f"-- SQLite: rebuild {self.table} without {self.name} (or use --repair)"
        return f"ALTER TABLE {self.table} DROP CONSTRAINT {self.name};"


def _name_helpers(func: str, args: list):
    def joined(value):
        return "_".join(value) if isinstance(value, list | tuple) else value

    if any(a is UNKNOWN for a in args) or not args:
        return UNKNOWN
    table, *rest = args
    columns = joined(rest[0]) if rest else ""
    return {
        "build_foreign_key_name": lambda: f"{table}_{columns}_fkey",
        "build_unique_constraint_name": lambda: f"{table}_{columns}_key",
        "build_check_constraint_name": lambda: f"{table}_{columns}_check",
        "build_index_name": lambda: f"ix_{table}_{columns}",
    }.get(func, lambda: UNKNOWN)()


def _eval(node: ast.expr, scope: dict):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return scope.get(node.id, UNKNOWN)
    if isinstance(node, ast.Tuple | ast.List):
        return [_eval(element, scope) for element in node.elts]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            part = _eval(value.value, scope) if isinstance(value, ast.FormattedValue) else value.value
            if part is UNKNOWN:
                return UNKNOWN
            parts.append(str(part))
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN
    if isinstance(node, ast.Call):
        func = callee_name(node)
        if func == "Column" and node.args:
            return ("column", _eval(node.args[0], scope))
        if func and func.startswith("build_"):
            return _name_helpers(func, [_eval(a, scope) for a in node.args])
    return UNKNOWN


def _assign(statement: ast.stmt, scope: dict) -> None:
    if isinstance(statement, ast.Assign):
        value = _eval(statement.value, scope)
        for target in statement.targets:
            if isinstance(target, ast.Name):
                scope[target.id] = value


def _arguments(call: ast.Call, scope: dict) -> list:
    values = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            expanded = _eval(arg.value, scope)
            values += expanded if isinstance(expanded, list) else [UNKNOWN]
        else:
            values.append(_eval(arg, scope))
    return values


def created_objects(revision: Revision) -> list[CreatedObject]:
    """Objects ``revision.upgrade()`` creates whose names can be read from the file."""
    source = RevisionSource.read(revision.path)
    scope: dict = {}
    for statement in source.tree.body:
        _assign(statement, scope)
    upgrade = source.functions.get("upgrade")
    if upgrade is None:
        return []
    local = dict(scope)
    for statement in ast.walk(upgrade):
        if isinstance(statement, ast.Assign):
            _assign(statement, local)
    found = []
    guarded = _guarded_calls(upgrade)
    for node in ast.walk(upgrade):
        if not isinstance(node, ast.Call) or callee_name(node) not in CREATORS:
            continue
        func = callee_name(node)
        args = _arguments(node, local)
        made = _object(revision.id, func, args)
        if made:
            direct = isinstance(node.func, ast.Attribute)  # op.create_table(...): no repair check
            found.append(
                CreatedObject(made.revision, made.kind, made.name, made.table, not direct, id(node) in guarded)
            )
    return found


def _guarded_calls(function: ast.AST) -> set[int]:
    """ids of the calls inside the body of an ``if`` whose test asks ``*_exists(...)`` (Galaxy's own check)."""
    inside = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.If):
            continue
        asks = any(
            isinstance(call, ast.Call) and (callee_name(call) or "").endswith("_exists") for call in ast.walk(node.test)
        )
        if asks:
            inside |= {id(call) for statement in node.body for call in ast.walk(statement)}
    return inside


def _object(rev_id: str, func: str, args: list) -> CreatedObject | None:
    def text(value):
        return value if isinstance(value, str) else None

    if func == "create_table" and args and text(args[0]):
        return CreatedObject(rev_id, "table", args[0])
    if func == "add_column" and len(args) >= 2:
        column = args[1]
        if text(args[0]) and isinstance(column, tuple) and text(column[1]):
            return CreatedObject(rev_id, "column", column[1], args[0])
        return None
    if len(args) >= 2 and text(args[0]) and text(args[1]):
        return CreatedObject(rev_id, KIND[func], args[0], args[1])
    return None


# -- which of them a database already has --------------------------------------------


@dataclass
class SchemaObjects:
    tables: set[str]
    columns: set[tuple[str, str]]
    indexes: set[str]
    constraints: set[str]

    def has(self, obj: CreatedObject) -> bool:
        if obj.kind == "table":
            return obj.name in self.tables
        if obj.kind == "column":
            return (obj.table, obj.name) in self.columns
        if obj.kind == "index":
            return obj.name in self.indexes or obj.name in self.constraints
        return obj.name in self.constraints or obj.name in self.indexes


_CONSTRAINT_NAME = re.compile(r'CONSTRAINT\s+["`\[]?(\w+)', re.IGNORECASE)


def schema_objects(db: DatabaseUrl, tables: set[str] | None = None) -> SchemaObjects:
    """Names of tables, columns (of ``tables``, default all), indexes and constraints, read-only."""
    if db.is_sqlite:
        conn = sqlite3.connect(f"{db.sqlite_path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
            all_tables = {name for kind, name, _, _ in rows if kind == "table"}
            wanted = all_tables if tables is None else all_tables & set(tables)
            columns = {
                (table, column)
                for table in wanted
                for (column,) in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))
            }
            indexes = {name for kind, name, _, _ in rows if kind == "index"}
            constraints = {
                m for kind, _, _, sql in rows if kind == "table" and sql for m in _CONSTRAINT_NAME.findall(sql)
            }
            return SchemaObjects(all_tables, columns, indexes, constraints)
        finally:
            conn.close()
    with read_only_cursor(db, "galaxy-runbooks-doctor") as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = ANY (current_schemas(false))")
        all_tables = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = ANY (current_schemas(false))"
        )
        columns = {(t, c) for t, c in cursor.fetchall() if tables is None or t in tables}
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = ANY (current_schemas(false))")
        indexes = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = ANY (current_schemas(false))"
        )
        constraints = {row[0] for row in cursor.fetchall()}
    return SchemaObjects(all_tables, columns, indexes, constraints)
