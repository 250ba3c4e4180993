"""The one reader of Galaxy revision files: parsed with ``ast``, never imported.

Importing anything under ``galaxy.model`` costs seconds, and a broken revision must not
run. ``RevisionSource`` answers what the revision graph (``runbooks.code.revisions``), the
plan's notes (``runbooks.code.effects``), the doctor (``runbooks.code.objects``) and the lint
(``runbooks.lint``) ask of a file: module literals, functions, comments, names, strings.

``statements(source, "upgrade")`` walks ``upgrade()`` (or ``downgrade()``) together with the
module's own helper functions it calls, and lists the calls that change the database, each
with where it runs: inside ``with transaction():``? only on one dialect (``if _is_sqlite():``
and friends, see ``dialect_of``)? in a loop?
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from runbooks.code.operations import (
    BATCH_SIGNATURES,
    CONNECTION_NAMES,
    KEYWORD_ALIASES,
    OP_NON_STATEMENTS,
    SIGNATURES,
    UTIL_MODULE,
)
from runbooks.code.syntax import Function, assignments, callee_name, walk_no_defs


class RevisionSource:
    """A parsed revision file and what its names stand for."""

    def __init__(self, path: Path, text: str, tree: ast.Module) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        self._function_names: dict[int, dict[str, ast.AST]] = {}

    @classmethod
    def read(cls, path: Path) -> RevisionSource:
        """Parse ``path`` (raises ``SyntaxError`` / ``UnicodeDecodeError`` for a file that is not Python, and
        ``ValueError`` for one nested too deeply for Python's parser)."""
        text = path.read_text(encoding="utf-8")
        try:
            return cls(path, text, ast.parse(text, filename=str(path)))
        except (RecursionError, MemoryError) as error:
            raise ValueError(f"nested too deeply for Python's parser ({error})") from None

    # -- module facts ------------------------------------------------------------

    @cached_property
    def functions(self) -> dict[str, Function]:
        return {node.name: node for node in self.tree.body if isinstance(node, Function)}

    @cached_property
    def module_names(self) -> dict[str, ast.AST]:
        return assignments(self.tree.body)

    def literal(self, name: str) -> tuple[object, int]:
        """Value and line of a module-level ``name = <literal>`` (``(None, 0)`` when absent)."""
        for node in self.tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                try:
                    return ast.literal_eval(node.value), node.lineno
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    return None, node.lineno
        return None, 0

    @cached_property
    def comments(self) -> dict[int, str]:
        comments: dict[int, str] = {}
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                if token.type == tokenize.COMMENT:
                    comments[token.start[0]] = token.string
        except (tokenize.TokenError, SyntaxError):
            pass
        return comments

    @cached_property
    def _imports(self) -> tuple[dict[str, str], set[str], set[str]]:
        helpers: dict[str, str] = {}  # local name -> util function name
        util_modules: set[str] = set()
        op_names: set[str] = {"op"}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module == UTIL_MODULE:
                helpers.update((alias.asname or alias.name, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module == "galaxy.model.migrations":
                util_modules.update(a.asname or a.name for a in node.names if a.name == "util")
            elif isinstance(node, ast.ImportFrom) and node.module == "alembic":
                op_names.update(a.asname or a.name for a in node.names if a.name == "op")
            elif isinstance(node, ast.Import):
                util_modules.update(a.asname for a in node.names if a.name == UTIL_MODULE and a.asname)
        return helpers, util_modules, op_names

    # -- names -------------------------------------------------------------------

    def names_in(self, function: Function | None) -> dict[str, ast.AST]:
        if function is None:
            return {}
        key = id(function)
        if key not in self._function_names:
            names = assignments(function.body)
            for arg in function.args.args + function.args.kwonlyargs + function.args.posonlyargs:
                names.setdefault(arg.arg, None)  # a parameter: value unknown
            self._function_names[key] = names
        return self._function_names[key]

    def resolve(self, node: ast.AST | None, function: Function | None, depth: int = 0) -> ast.AST | None:
        """Follow a name to the expression last assigned to it (function first, then module)."""
        while isinstance(node, ast.Name) and depth < 10:
            depth += 1
            local = self.names_in(function)
            if node.id in local:
                node = local[node.id]
            elif node.id in self.module_names:
                node, function = self.module_names[node.id], None
            else:
                return node
        return node

    def string(self, node: ast.AST | None, function: Function | None, depth: int = 0) -> str | None:
        """The text of a string expression, following names, ``text()``, f-strings and ``+``."""
        if depth > 10 or node is None:
            return None
        if isinstance(node, ast.Name):
            local = self.names_in(function)
            if node.id in local:
                return self.string(local[node.id], function, depth + 1)
            if node.id in self.module_names:
                return self.string(self.module_names[node.id], None, depth + 1)
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                else:
                    text = (
                        self.string(value.value, function, depth + 1) if isinstance(value, ast.FormattedValue) else None
                    )
                    parts.append(text if text is not None else "{?}")
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.string(node.left, function, depth + 1)
            right = self.string(node.right, function, depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.Call) and callee_name(node) == "text" and node.args:
            return self.string(node.args[0], function, depth + 1)
        return None

    def call_arguments(self, call: ast.Call, function: Function | None) -> list[ast.AST]:
        """Positional arguments, with ``*args`` expanded when it names a tuple or list."""
        arguments: list[ast.AST] = []
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                value = self.resolve(arg.value, function)
                if isinstance(value, (ast.Tuple, ast.List)):
                    arguments.extend(value.elts)
                else:
                    break  # positions after an unknown *args are unknown
            else:
                arguments.append(arg)
        return arguments

    def argument(self, statement: Statement, parameter: str) -> ast.AST | None:
        signature = (BATCH_SIGNATURES if statement.kind == "batch" else SIGNATURES).get(statement.name, ())
        names = (parameter, *KEYWORD_ALIASES.get(parameter, ()))
        for keyword in statement.call.keywords:
            if keyword.arg in names:
                return keyword.value
        if parameter in signature:
            positional = self.call_arguments(statement.call, statement.ctx.function)
            index = signature.index(parameter)
            if index < len(positional):
                return positional[index]
        return None

    def keyword(self, call: ast.Call, name: str) -> ast.AST | None:
        return next((k.value for k in call.keywords if k.arg == name), None)

    def is_true(self, node: ast.AST | None, function: Function | None) -> bool:
        """Is ``node`` (after following names) the constant ``True``?"""
        value = self.resolve(node, function)
        return isinstance(value, ast.Constant) and value.value is True

    def table_of(self, statement: Statement) -> str | None:
        if statement.kind == "batch":
            return statement.table
        return self.string(self.argument(statement, "table_name"), statement.ctx.function)

    # -- calls -------------------------------------------------------------------

    def is_op(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id in self._imports[2]

    def helper_name(self, call: ast.Call) -> str | None:
        """The ``galaxy.model.migrations.util`` function ``call`` calls, if any."""
        helpers, util_modules, _ = self._imports
        func = call.func
        if isinstance(func, ast.Name):
            return helpers.get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in util_modules:
            return func.attr
        return None

    def is_connection(self, node: ast.AST, function: Function | None) -> bool:
        value = self.resolve(node, function)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            return value.func.attr == "get_bind" and self.is_op(value.func.value)
        return isinstance(node, ast.Name) and node.id in CONNECTION_NAMES


# -- which dialect a block runs on -----------------------------------------------------


def dialect_of(test: ast.AST) -> str | None:
    """ "sqlite" / "postgresql" when an ``if`` test is true only on that dialect.

    Knows ``_is_sqlite()`` / ``is_sqlite()`` (Galaxy's guard), comparisons of anything with
    ``"sqlite"`` or ``"postgresql"`` (``bind.engine.name == "sqlite"``), and ``not``.
    """
    negated = False
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        negated, test = not negated, test.operand
    only: str | None = None
    if isinstance(test, ast.Call) and callee_name(test) in ("_is_sqlite", "is_sqlite"):
        only = "sqlite"
    elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
        for side in (test.left, test.comparators[0]):
            if isinstance(side, ast.Constant) and side.value in ("sqlite", "postgresql"):
                only = side.value
                if isinstance(test.ops[0], ast.NotEq):
                    negated = not negated
    if only and negated:
        only = other_dialect(only)
    return only


def other_dialect(dialect: str) -> str:
    return "postgresql" if dialect == "sqlite" else "sqlite"


def is_early_return(node: ast.stmt) -> bool:
    """``if <test>: ... return`` without ``else``: the rest of the block runs when the test is false."""
    return isinstance(node, ast.If) and not node.orelse and bool(node.body) and isinstance(node.body[-1], ast.Return)


# -- walking upgrade() and downgrade() ------------------------------------------------


@dataclass
class Context:
    """Where a statement runs: inside ``transaction()``? only on one dialect? in a loop?"""

    function: Function  # the function whose body holds the statement (for names)
    top: str  # "upgrade" or "downgrade"
    wrapped: bool = False
    dialect: str | None = None  # None: every dialect; "sqlite" / "postgresql": only that one
    repeated: bool = False
    batch_tables: dict[str, str | None] = field(default_factory=dict)
    stack: tuple[str, ...] = ()


@dataclass
class Statement:
    """A call that changes the database: a helper, an ``op`` operation, or an execute()."""

    call: ast.Call
    kind: str  # "helper" | "op" | "batch" | "execute"
    name: str  # helper/op/batch operation name; "execute" for executes
    ctx: Context
    table: str | None = None  # batch operations: the table of the batch

    @property
    def line(self) -> int:
        return self.call.lineno


def statements(source: RevisionSource, top: str) -> list[Statement]:
    """The statements ``top`` (``"upgrade"`` / ``"downgrade"``) runs, following local helper calls."""
    walker = _Walker(source)
    function = source.functions.get(top)
    if function is not None:
        walker.block(function.body, Context(function, top, stack=(top,)))
    return walker.statements


class _Walker:
    def __init__(self, source: RevisionSource) -> None:
        self.source = source
        self.statements: list[Statement] = []

    def block(self, body: list[ast.stmt], ctx: Context) -> None:
        for index, node in enumerate(body):
            self.statement(node, ctx)
            # `if _is_sqlite(): return` -> the rest of the block only runs on PostgreSQL.
            only = dialect_of(node.test) if is_early_return(node) else None
            if only:
                self.block(body[index + 1 :], replace(ctx, dialect=ctx.dialect or other_dialect(only)))
                return

    def statement(self, node: ast.stmt, ctx: Context) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            inner = replace(ctx, batch_tables=dict(ctx.batch_tables))
            for item in node.items:
                self.expression(item.context_expr, ctx)
                expr = item.context_expr
                if isinstance(expr, ast.Call) and callee_name(expr) == "transaction":
                    inner.wrapped = True
                if (
                    isinstance(expr, ast.Call)
                    and isinstance(expr.func, ast.Attribute)
                    and expr.func.attr == "batch_alter_table"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    table = self.source.string(expr.args[0], ctx.function) if expr.args else None
                    inner.batch_tables[item.optional_vars.id] = table
            self.block(node.body, inner)
        elif isinstance(node, ast.If):
            self.expression(node.test, ctx)
            only = dialect_of(node.test)
            self.block(node.body, replace(ctx, dialect=ctx.dialect or only))
            self.block(node.orelse, replace(ctx, dialect=ctx.dialect or (only and other_dialect(only))))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.expression(node.iter if not isinstance(node, ast.While) else node.test, ctx)
            self.block(node.body, replace(ctx, repeated=True))
            self.block(node.orelse, ctx)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            for body in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                self.block(body, ctx)
        else:
            self.expression(node, ctx)

    def expression(self, node: ast.AST, ctx: Context) -> None:
        for child in walk_no_defs(node):
            if isinstance(child, ast.Call):
                self.call(child, ctx)

    def call(self, call: ast.Call, ctx: Context) -> None:
        source, func = self.source, call.func
        helper = source.helper_name(call)
        if helper in SIGNATURES:
            self.statements.append(Statement(call, "helper", helper, ctx))
        elif isinstance(func, ast.Attribute) and source.is_op(func.value):
            if func.attr == "execute":
                self.statements.append(Statement(call, "execute", "execute", ctx))
            elif func.attr not in OP_NON_STATEMENTS:
                self.statements.append(Statement(call, "op", func.attr, ctx))
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ctx.batch_tables:
            self.statements.append(Statement(call, "batch", func.attr, ctx, table=ctx.batch_tables[func.value.id]))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "execute"
            and source.is_connection(func.value, ctx.function)
        ):
            self.statements.append(Statement(call, "execute", "execute", ctx))
        elif isinstance(func, ast.Name) and func.id in source.functions and func.id not in ctx.stack:
            callee = source.functions[func.id]
            self.block(callee.body, replace(ctx, function=callee, stack=(*ctx.stack, func.id)))
