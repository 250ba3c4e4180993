"""The rules behind ``runbooks.lint.command``: what a Galaxy revision file is checked for, and how.

A revision file is read with ``ast`` and never imported (importing anything under
``galaxy.model`` costs seconds, and a broken revision must not run). ``upgrade()`` and
``downgrade()`` are walked together with the module's own helper functions they call,
keeping track of three facts for every statement: is it inside ``with transaction():``,
does it only run on one dialect (``if _is_sqlite():`` and friends), and is it in a loop.

The catalogue (``RULES``) holds one entry per stable rule id, with the reason and the fix
that ``render_calibration_markdown`` publishes.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

UTIL_MODULE = "galaxy.model.migrations.util"

# -- findings and the rule catalogue ------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem in one file. ``line`` is 1-based (0 when the whole file is meant)."""

    rule: str
    line: int
    message: str
    fix: str
    severity: str  # "error" | "warning" | "info"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    why: str
    fix: str


# Galaxy tables that grow with every job, dataset, history item, web session or workflow
# invocation: on a production server they hold millions of rows and are written to all the
# time, so a statement that locks one of them for the length of a table scan stalls Galaxy.
BIG_TABLES: dict[str, str] = {
    "job": "one row per job",
    "job_parameter": "several rows per job",
    "job_state_history": "one row per job state change",
    "job_metric_numeric": "several rows per job",
    "job_metric_text": "several rows per job",
    "job_to_input_dataset": "one row per job input",
    "job_to_output_dataset": "one row per job output",
    "job_to_input_dataset_collection": "one row per job collection input",
    "job_to_output_dataset_collection": "one row per job collection output",
    "job_external_output_metadata": "one row per job output",
    "dataset": "one row per dataset",
    "dataset_permissions": "rows per dataset",
    "dataset_source": "one row per fetched dataset",
    "dataset_hash": "rows per dataset",
    "dataset_collection": "one row per collection",
    "dataset_collection_element": "one row per collection element",
    "history": "one row per history",
    "history_audit": "one row per history change",
    "history_dataset_association": "one row per history item",
    "history_dataset_association_history": "one row per history item edit",
    "history_dataset_collection_association": "one row per history collection",
    "implicitly_converted_dataset_association": "one row per converted dataset",
    "library_dataset_dataset_association": "one row per library dataset",
    "metadata_file": "rows per dataset",
    "galaxy_session": "one row per web session, anonymous visitors included",
    "galaxy_session_to_history": "one row per session and history",
    "workflow_invocation": "one row per workflow run",
    "workflow_invocation_step": "one row per workflow run step",
    "workflow_request_step_states": "one row per workflow run step",
    "workflow_request_input_parameters": "one row per workflow run parameter",
    "workflow_request_to_input_dataset": "one row per workflow run input",
    "implicit_collection_jobs_job_association": "one row per mapped-over job",
}

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "not-python",
            "error",
            "The file is not Python",
            "The file cannot be decoded as UTF-8 or parsed as Python, so Alembic cannot load it.",
            "Fix the syntax error (the message gives the line), or lint the right file.",
        ),
        Rule(
            "not-a-revision",
            "error",
            "The file is not an Alembic revision",
            "A revision module assigns `revision` (a string) and `down_revision` at module level; "
            "without them Alembic does not see the file as a revision.",
            "Create revisions from Galaxy's template (`python -m runbooks create -m MESSAGE` or "
            "`sh manage_db.sh revision -m MESSAGE`) rather than by hand.",
        ),
        Rule(
            "missing-downgrade",
            "error",
            "No `downgrade()` function",
            "Alembic looks up `module.downgrade` of every revision a downgrade crosses before it "
            "runs any of them: without the function, every downgrade across this revision fails "
            "with an AttributeError.",
            "Add `def downgrade():` that undoes `upgrade()`; if the change cannot be undone, let it "
            "`pass` with a comment saying the revision is one-way and why.",
        ),
        Rule(
            "downgrade-only-passes",
            "warning",
            "`downgrade()` only passes, without saying why",
            "A downgrade that silently does nothing moves `alembic_version` down while the schema "
            "stays at the newer state, so the next upgrade can fail on objects that already exist.",
            "Undo the upgrade, or keep `pass` and say so in a comment or docstring, as Galaxy does: "
            '`# No need to downgrade, this is a one-way migration.` (e93c5d0b47a9) or `"""This '
            'revision is a fix for the previous migration, so no downgrade is necessary."""` '
            "(c716ee82337b).",
        ),
        Rule(
            "no-transaction",
            "warning",
            "Several schema statements outside `with transaction():`",
            "pysqlite does not open a transaction for DDL, so on SQLite a rollback does not undo "
            "the statements that already ran: when a later statement fails, the earlier ones stay "
            "applied while `alembic_version` is not moved, and the next attempt fails on objects "
            "that already exist. `transaction()` from `galaxy.model.migrations.util` issues an "
            "explicit BEGIN/END on SQLite (on PostgreSQL it does nothing: Alembic's transaction "
            "already covers DDL).",
            "Wrap the body of `upgrade()`/`downgrade()` in `with transaction():` "
            "(`from galaxy.model.migrations.util import transaction`).",
        ),
        Rule(
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
        ),
        Rule(
            "not-current-head",
            "error",
            "`down_revision` is not the current head",
            "A new revision must sit on top of the branch's only head. Based on an older revision, "
            "it creates a second head, and commands that target `gxy@head` (Galaxy's upgrade, "
            "`manage_db.sh upgrade`) fail with 'Multiple heads are present ...' "
            "(galaxyproject/galaxy#15768, #22370).",
            "Set `down_revision` (and `Revises:` in the docstring) to the current head, or create the "
            "revision again on an up-to-date checkout; if two heads already exist, add a merge "
            "revision or re-parent one of them.",
        ),
        Rule(
            "duplicate-revision-id",
            "error",
            "The revision id is already used by another file",
            "Alembic refuses to load a script directory where two files declare the same `revision`.",
            "Give the new file a fresh id (let `manage_db.sh revision` or `python -m runbooks create` "
            "generate it) and rename the file to match.",
        ),
        Rule(
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
        ),
        Rule(
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
        ),
        Rule(
            "not-null-without-default",
            "error",
            "A NOT NULL column added without `server_default`",
            "Existing rows have no value for the new column, so the ALTER TABLE fails on any table "
            "that already has rows (PostgreSQL: 'column ... contains null values'; SQLite refuses to "
            "add a NOT NULL column whose default is NULL). A Python-side `default=` does not help: "
            "it only applies to rows inserted by SQLAlchemy later.",
            "Give the column a `server_default` (e.g. `server_default=sa.false()`), or add it "
            "nullable, fill it with an UPDATE, then `alter_column(table, column, nullable=False)`.",
        ),
        Rule(
            "unbatched-data-change",
            "warning",
            "UPDATE or DELETE over a whole large table",
            "An UPDATE/DELETE without WHERE on a large Galaxy table rewrites or removes every row "
            "in one transaction: it locks those rows for the whole run, bloats the table and can run "
            "for hours on a big server.",
            "Restrict the statement with a WHERE clause that touches only the rows that need the "
            "change, or process the table in batches (e.g. by id ranges) in a data-fix helper "
            "(see `galaxy.model.migrations.data_fixes`).",
        ),
    )
}

# The rules of the catalogue that say something about a revision's content (not the file).
CONTENT_RULES = tuple(rule for rule in RULES if rule not in ("not-python", "not-a-revision"))


def finding(rule: str, line: int, message: str, fix: str | None = None) -> Finding:
    spec = RULES[rule]
    return Finding(rule, line, message, fix or spec.fix, spec.severity)


# -- what Galaxy's helpers and Alembic's operations look like ------------------------

# Helper (and same-named op function) -> positional parameter names. Both accept keywords.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_foreign_key": (
        "foreign_key_name",
        "table_name",
        "referent_table",
        "local_cols",
        "remote_cols",
    ),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "drop_constraint": ("constraint_name", "table_name"),
}
# Keyword spellings Alembic uses where Galaxy's helpers use another name.
KEYWORD_ALIASES = {
    "foreign_key_name": ("constraint_name",),
    "table_name": ("source_table",),
}
# Batch operations (``with op.batch_alter_table(t) as batch_op``): the table is implicit.
BATCH_SIGNATURES: dict[str, tuple[str, ...]] = {
    "add_column": ("column",),
    "drop_column": ("column_name",),
    "alter_column": ("column_name",),
    "create_index": ("index_name", "columns"),
    "drop_index": ("index_name",),
    "create_foreign_key": (
        "foreign_key_name",
        "referent_table",
        "local_cols",
        "remote_cols",
    ),
    "create_unique_constraint": ("constraint_name", "columns"),
    "drop_constraint": ("constraint_name",),
}
# op functions that are not statements of their own.
OP_NON_STATEMENTS = {
    "get_bind",
    "get_context",
    "f",
    "inline_literal",
    "batch_alter_table",
    "run_async",
}
CONNECTION_NAMES = {"connection", "conn", "bind", "connectable"}

ONE_WAY_WORDING = re.compile(
    r"one[- ]way|irreversib|not reversible|cannot be (?:undone|reversed)|can'?t be (?:undone|reversed)"
    r"|no downgrade|no need to downgrade|nothing to (?:downgrade|undo)|intentional|not (?:necessary|needed)",
    re.IGNORECASE,
)
SQL_INDEX = re.compile(
    r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    r"(?:IF\s+NOT\s+EXISTS\s+)?(?:\"?\w+\"?\s+)?ON\s+(?:ONLY\s+)?\"?(?P<table>\w+)\"?",
    re.IGNORECASE,
)
SQL_FOREIGN_KEY = re.compile(
    r"\bALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?\"?(?P<table>\w+)\"?(?P<rest>[^;]*?\b(?:FOREIGN\s+KEY|REFERENCES)\b[^;]*)",
    re.IGNORECASE,
)
SQL_DATA_CHANGE = re.compile(
    r"\b(?P<verb>UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?\"?(?P<table>\w+)\"?(?P<rest>[^;]*)",
    re.IGNORECASE,
)

# -- reading a revision --------------------------------------------------------------


@dataclass
class Context:
    """Where a statement runs: inside ``transaction()``? only on one dialect? in a loop?"""

    function: ast.FunctionDef  # the function whose body holds the statement (for names)
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


class RevisionSource:
    """A parsed revision file and what lint needs to know about its names."""

    def __init__(self, path: Path, text: str, tree: ast.Module) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        self.functions: dict[str, ast.FunctionDef] = {
            node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.module_names = _assignments(tree.body)
        self.helpers: dict[str, str] = {}  # local name -> util function name
        self.util_modules: set[str] = set()
        self.op_names: set[str] = {"op"}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == UTIL_MODULE:
                for alias in node.names:
                    self.helpers[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module == "galaxy.model.migrations":
                self.util_modules.update(a.asname or a.name for a in node.names if a.name == "util")
            elif isinstance(node, ast.ImportFrom) and node.module == "alembic":
                self.op_names.update(a.asname or a.name for a in node.names if a.name == "op")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == UTIL_MODULE and alias.asname:
                        self.util_modules.add(alias.asname)
        self._comments: dict[int, str] | None = None
        self._function_names: dict[int, dict[str, ast.AST]] = {}

    # -- module facts ------------------------------------------------------------

    def literal(self, name: str) -> tuple[object, int]:
        """Value and line of a module-level ``name = <literal>`` (``(None, 0)`` when absent)."""
        for node in self.tree.body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and node.value is not None:
                try:
                    return ast.literal_eval(node.value), node.lineno
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    return None, node.lineno
        return None, 0

    @property
    def comments(self) -> dict[int, str]:
        if self._comments is None:
            self._comments = {}
            try:
                for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                    if token.type == tokenize.COMMENT:
                        self._comments[token.start[0]] = token.string
            except (tokenize.TokenError, SyntaxError):
                pass
        return self._comments

    # -- names -------------------------------------------------------------------

    def names_in(self, function: ast.FunctionDef | None) -> dict[str, ast.AST]:
        if function is None:
            return {}
        key = id(function)
        if key not in self._function_names:
            names = _assignments(function.body)
            for arg in function.args.args + function.args.kwonlyargs + function.args.posonlyargs:
                names.setdefault(arg.arg, None)  # a parameter: value unknown
            self._function_names[key] = names
        return self._function_names[key]

    def resolve(
        self,
        node: ast.AST | None,
        function: ast.FunctionDef | None,
        depth: int = 0,
    ) -> ast.AST | None:
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

    def string(
        self,
        node: ast.AST | None,
        function: ast.FunctionDef | None,
        depth: int = 0,
    ) -> str | None:
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
        if isinstance(node, ast.Call) and _callee_name(node) == "text" and node.args:
            return self.string(node.args[0], function, depth + 1)
        return None

    def call_arguments(self, call: ast.Call, function: ast.FunctionDef | None) -> list[ast.AST]:
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

    def table_of(self, statement: Statement) -> str | None:
        if statement.kind == "batch":
            return statement.table
        return self.string(self.argument(statement, "table_name"), statement.ctx.function)

    # -- calls -------------------------------------------------------------------

    def is_op(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id in self.op_names

    def helper_name(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Name):
            return self.helpers.get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.util_modules:
            return func.attr
        return None

    def is_connection(self, node: ast.AST, function: ast.FunctionDef | None) -> bool:
        value = self.resolve(node, function)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            return value.func.attr == "get_bind" and self.is_op(value.func.value)
        return isinstance(node, ast.Name) and node.id in CONNECTION_NAMES


def _assignments(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Simple ``name = value`` assignments in a block and its nested blocks (last one wins)."""
    names: dict[str, ast.AST] = {}
    stack = list(body)
    ordered: list[ast.stmt] = []
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        ordered.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                stack.append(child)
    for node in sorted(ordered, key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            names[node.target.id] = node.value
    return names


def _callee_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_only_pass(body: list[ast.stmt]) -> bool:
    """A body that does nothing: ``pass``, ``...`` and string literals only."""
    return all(
        isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        for node in body
    )


# -- walking upgrade() and downgrade() ------------------------------------------------


class _Walker:
    """Collects the statements a top-level function runs, following local helper calls."""

    def __init__(self, source: RevisionSource) -> None:
        self.source = source
        self.statements: list[Statement] = []

    def run(self, name: str) -> list[Statement]:
        function = self.source.functions.get(name)
        if function is not None:
            self.block(function.body, Context(function, name, stack=(name,)))
        return self.statements

    def block(self, body: list[ast.stmt], ctx: Context) -> None:
        for index, node in enumerate(body):
            self.statement(node, ctx)
            # `if _is_sqlite(): return` -> the rest of the block only runs on PostgreSQL.
            if isinstance(node, ast.If) and not node.orelse and node.body and isinstance(node.body[-1], ast.Return):
                only = self.dialect_of(node.test)
                if only:
                    rest = "postgresql" if only == "sqlite" else "sqlite"
                    self.block(body[index + 1 :], replace(ctx, dialect=ctx.dialect or rest))
                    return

    def statement(self, node: ast.stmt, ctx: Context) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            inner = replace(ctx, batch_tables=dict(ctx.batch_tables))
            for item in node.items:
                self.expression(item.context_expr, ctx)
                expr = item.context_expr
                if isinstance(expr, ast.Call) and _callee_name(expr) == "transaction":
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
            only = self.dialect_of(node.test)
            other = {"sqlite": "postgresql", "postgresql": "sqlite"}.get(only or "")
            self.block(node.body, replace(ctx, dialect=ctx.dialect or only))
            self.block(node.orelse, replace(ctx, dialect=ctx.dialect or other))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.expression(node.iter if not isinstance(node, ast.While) else node.test, ctx)
            self.block(node.body, replace(ctx, repeated=True))
            self.block(node.orelse, ctx)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            for body in (
                node.body,
                *(h.body for h in node.handlers),
                node.orelse,
                node.finalbody,
            ):
                self.block(body, ctx)
        else:
            self.expression(node, ctx)

    def expression(self, node: ast.AST, ctx: Context) -> None:
        for child in _walk_no_defs(node):
            if isinstance(child, ast.Call):
                self.call(child, ctx)

    def call(self, call: ast.Call, ctx: Context) -> None:
        source = self.source
        func = call.func
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

    def dialect_of(self, test: ast.AST) -> str | None:
        """ "sqlite" / "postgresql" when the test is true only on that dialect."""
        negated = False
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            negated, test = not negated, test.operand
        only: str | None = None
        if isinstance(test, ast.Call) and _callee_name(test) in (
            "_is_sqlite",
            "is_sqlite",
        ):
            only = "sqlite"
        elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
            for side in (test.left, test.comparators[0]):
                if isinstance(side, ast.Constant) and side.value in (
                    "sqlite",
                    "postgresql",
                ):
                    only = side.value
                    if isinstance(test.ops[0], ast.NotEq):
                        negated = not negated
        if only and negated:
            only = "postgresql" if only == "sqlite" else "sqlite"
        return only


def _walk_no_defs(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk that does not enter nested functions, lambdas or classes."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


# -- the checks ------------------------------------------------------------------------


class Checker:
    def __init__(self, source: RevisionSource) -> None:
        self.source = source
        self.statements = {top: _Walker(source).run(top) for top in ("upgrade", "downgrade")}
        self.created_tables = {
            table
            for statements in self.statements.values()
            for statement in statements
            if statement.name == "create_table" and statement.kind in ("helper", "op")
            for table in [source.table_of(statement)]
            if table
        }

    def all_statements(self) -> Iterator[Statement]:
        for statements in self.statements.values():
            yield from statements

    def big_table(self, table: str | None) -> bool:
        return bool(table) and table in BIG_TABLES and table not in self.created_tables

    def sql_of(self, statement: Statement) -> str | None:
        if not statement.call.args:
            return None
        return self.source.string(statement.call.args[0], statement.ctx.function)

    # -- file structure ------------------------------------------------------------

    def check_downgrade(self) -> Iterator[Finding]:
        functions = self.source.functions
        downgrade = functions.get("downgrade")
        if downgrade is None:
            yield finding("missing-downgrade", 1, "the revision has no downgrade() function")
            return
        upgrade = functions.get("upgrade")
        if not _is_only_pass(downgrade.body) or upgrade is None or _is_only_pass(upgrade.body):
            return  # a merge or base revision does nothing either way
        said = [
            ast.get_docstring(downgrade) or "",
            ast.get_docstring(self.source.tree) or "",
        ]
        comments = self.source.comments
        first = min([downgrade.lineno, *(d.lineno for d in downgrade.decorator_list)])
        said.extend(text for line, text in comments.items() if first <= line <= (downgrade.end_lineno or first))
        line = first - 1
        while line in comments:  # the comment block right above `def downgrade`
            said.append(comments[line])
            line -= 1
        if not any(ONE_WAY_WORDING.search(text) for text in said):
            yield finding(
                "downgrade-only-passes",
                downgrade.lineno,
                "downgrade() only passes although upgrade() changes the database, and nothing says "
                "the revision is one-way",
            )

    def check_transaction(self) -> Iterator[Finding]:
        for top, statements in self.statements.items():
            loose = [s for s in statements if not s.ctx.wrapped and s.ctx.dialect != "postgresql" and self.counts(s)]
            weight = sum(2 if s.ctx.repeated else 1 for s in loose)
            if weight >= 2:
                numbers = sorted({s.line for s in loose})
                lines = ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")
                yield finding(
                    "no-transaction",
                    self.source.functions[top].lineno,
                    f"{top}() runs {'several' if any(s.ctx.repeated for s in loose) else len(loose)} "
                    f"statements outside `with transaction():` (lines {lines}): on SQLite a failure "
                    "half-way leaves the first ones applied",
                )

    def counts(self, statement: Statement) -> bool:
        """Does this statement change the database (for the transaction rule)?"""
        if statement.kind != "execute":
            return True
        sql = self.sql_of(statement)
        if sql is not None:
            return not re.match(
                r"\s*(SELECT|WITH\s+\w+\s+AS\s*\(\s*SELECT|SHOW|EXPLAIN)\b",
                sql,
                re.IGNORECASE,
            )
        expression = (
            self.source.resolve(statement.call.args[0], statement.ctx.function) if statement.call.args else None
        )
        return "select" not in _chain_names(expression)

    def check_raw_op(self) -> Iterator[Finding]:
        for statement in self.all_statements():
            if statement.kind == "op" and statement.name in SIGNATURES:
                yield finding(
                    "raw-op-call",
                    statement.line,
                    f"op.{statement.name}() bypasses Galaxy's helper {statement.name}() "
                    "(SQLite batch mode, offline mode, --repair)",
                    f"use `{statement.name}(...)` from galaxy.model.migrations.util (same arguments)",
                )
        for node in ast.walk(self.source.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "batch_alter_table"
                and self.source.is_op(node.func.value)
            ):
                yield finding(
                    "raw-op-call",
                    node.lineno,
                    "op.batch_alter_table() by hand: Galaxy's ALTER-type helpers already use batch mode on SQLite",
                    "call add_column / drop_column / alter_column / create_foreign_key / "
                    "create_unique_constraint / drop_constraint from galaxy.model.migrations.util instead",
                )

    def check_locks(self) -> Iterator[Finding]:
        source = self.source
        for statement in self.all_statements():
            if statement.ctx.dialect == "sqlite":
                continue
            name, call, function = (
                statement.name,
                statement.call,
                statement.ctx.function,
            )
            table = source.table_of(statement) if statement.kind != "execute" else None
            if statement.kind == "execute":
                yield from self.check_sql_locks(statement)
            elif name == "create_index" and self.big_table(table):
                concurrently = source.resolve(source.keyword(call, "postgresql_concurrently"), function)
                if not (isinstance(concurrently, ast.Constant) and concurrently.value is True):
                    yield finding(
                        "index-locks-table",
                        statement.line,
                        f"create_index on `{table}` ({BIG_TABLES[table]}) without postgresql_concurrently=True "
                        "blocks writes to it for the whole index build",
                    )
            elif name == "create_unique_constraint" and self.big_table(table):
                yield finding(
                    "index-locks-table",
                    statement.line,
                    f"create_unique_constraint on `{table}` ({BIG_TABLES[table]}) builds a unique "
                    "index under an ACCESS EXCLUSIVE lock (reads and writes blocked)",
                )
            elif name == "create_foreign_key" and self.big_table(table):
                not_valid = source.resolve(source.keyword(call, "postgresql_not_valid"), function)
                if not (isinstance(not_valid, ast.Constant) and not_valid.value is True):
                    referent = source.string(source.argument(statement, "referent_table"), function) or "?"
                    yield finding(
                        "foreign-key-locks-table",
                        statement.line,
                        f"a foreign key on `{table}` ({BIG_TABLES[table]}) to `{referent}` is validated "
                        f"against every row while writes to `{table}` and `{referent}` are blocked",
                    )
            elif name == "add_column" and self.big_table(table):
                column = source.resolve(source.argument(statement, "column"), function)
                if isinstance(column, ast.Call):
                    for keyword in ("index", "unique"):
                        value = source.resolve(source.keyword(column, keyword), function)
                        if isinstance(value, ast.Constant) and value.value is True:
                            yield finding(
                                "index-locks-table",
                                statement.line,
                                f"the column added to `{table}` ({BIG_TABLES[table]}) has {keyword}=True: "
                                "its index is built while writes to the table are blocked",
                                "add the column without index=True, then create the index in its own step with "
                                "`create_index(..., postgresql_concurrently=True)` inside "
                                "`with op.get_context().autocommit_block():`",
                            )
                            break
                    if any(isinstance(a, ast.Call) and _callee_name(a) == "ForeignKey" for a in column.args):
                        yield finding(
                            "foreign-key-locks-table",
                            statement.line,
                            f"the column added to `{table}` ({BIG_TABLES[table]}) carries a ForeignKey: "
                            "the constraint is added and validated while the table is locked",
                            "add the column without ForeignKey, then add the constraint with "
                            "`create_foreign_key(..., postgresql_not_valid=True)` and validate it in a later "
                            "revision (`ALTER TABLE ... VALIDATE CONSTRAINT ...`)",
                        )

    def check_sql_locks(self, statement: Statement) -> Iterator[Finding]:
        sql = self.sql_of(statement)
        if not sql:
            return
        for match in SQL_INDEX.finditer(sql):
            table = match.group("table")
            if self.big_table(table) and not match.group("concurrently"):
                yield finding(
                    "index-locks-table",
                    statement.line,
                    f"CREATE INDEX on `{table}` ({BIG_TABLES[table]}) without CONCURRENTLY blocks writes to it "
                    "for the whole index build",
                    "use CREATE INDEX CONCURRENTLY inside `with op.get_context().autocommit_block():` "
                    "(it cannot run in a transaction)",
                )
        for match in SQL_FOREIGN_KEY.finditer(sql):
            table = match.group("table")
            if self.big_table(table) and not re.search(r"\bNOT\s+VALID\b", match.group("rest"), re.IGNORECASE):
                yield finding(
                    "foreign-key-locks-table",
                    statement.line,
                    f"ALTER TABLE `{table}` ({BIG_TABLES[table]}) adds a foreign key that is validated against "
                    "every row while the table is locked",
                    "add it with NOT VALID, then run `ALTER TABLE ... VALIDATE CONSTRAINT ...` in a separate revision",
                )

    def check_not_null(self) -> Iterator[Finding]:
        source = self.source
        for statement in self.all_statements():
            if statement.name != "add_column" or statement.kind == "execute":
                continue
            table = source.table_of(statement)
            if table and table in self.created_tables:
                continue
            function = statement.ctx.function
            column = source.resolve(source.argument(statement, "column"), function)
            if not isinstance(column, ast.Call) or _callee_name(column) != "Column":
                continue
            nullable = source.resolve(source.keyword(column, "nullable"), function)
            primary = source.resolve(source.keyword(column, "primary_key"), function)
            if (
                isinstance(nullable, ast.Constant)
                and nullable.value is False
                and source.keyword(column, "server_default") is None
                and not (isinstance(primary, ast.Constant) and primary.value is True)
            ):
                name = source.string(column.args[0], function) if column.args else None
                yield finding(
                    "not-null-without-default",
                    statement.line,
                    f"column `{name or '?'}` is added to `{table or '?'}` with nullable=False and no "
                    "server_default: the ALTER TABLE fails as soon as the table has rows",
                )

    def check_data_changes(self) -> Iterator[Finding]:
        source = self.source
        for statement in self.all_statements():
            if statement.kind != "execute" or not statement.call.args:
                continue
            sql = self.sql_of(statement)
            if sql is not None:
                for match in SQL_DATA_CHANGE.finditer(sql):
                    table = match.group("table")
                    if self.big_table(table) and not re.search(r"\bWHERE\b", match.group("rest"), re.IGNORECASE):
                        verb = match.group("verb").split()[0].upper()
                        yield self.data_change(statement, verb, table)
                continue
            expression = source.resolve(statement.call.args[0], statement.ctx.function)
            names = _chain_names(expression)
            verb = "UPDATE" if "update" in names else "DELETE" if "delete" in names else None
            if verb and "where" not in names and "filter" not in names:
                table = self.expression_table(expression, statement.ctx.function)
                if self.big_table(table):
                    yield self.data_change(statement, verb, table)

    def data_change(self, statement: Statement, verb: str, table: str) -> Finding:
        return finding(
            "unbatched-data-change",
            statement.line,
            f"{verb} on `{table}` ({BIG_TABLES[table]}) without WHERE changes every row in one transaction",
        )

    def expression_table(self, expression: ast.AST | None, function: ast.FunctionDef | None) -> str | None:
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
                return self.table_name(target, function)
            if isinstance(func, ast.Name) and func.id in ("update", "delete") and node.args:
                return self.table_name(node.args[0], function)
            node = func.value if isinstance(func, ast.Attribute) else None
        return None

    def table_name(self, node: ast.AST, function: ast.FunctionDef | None) -> str | None:
        value = self.source.resolve(node, function)
        if isinstance(value, ast.Call) and _callee_name(value) in ("table", "Table") and value.args:
            return self.source.string(value.args[0], function)
        return None


def _chain_names(node: ast.AST | None) -> set[str]:
    """Method and function names along a call chain such as ``t.update().where(...).values(...)``."""
    names: set[str] = set()
    while node is not None:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.add(node.id)
            node = None
        else:
            node = None
    return names


def check_source(source: RevisionSource) -> list[Finding]:
    """Every content rule except the graph rules (see ``runbooks.lint.command``)."""
    checker = Checker(source)
    findings = [
        *checker.check_downgrade(),
        *checker.check_transaction(),
        *checker.check_raw_op(),
        *checker.check_locks(),
        *checker.check_not_null(),
        *checker.check_data_changes(),
    ]
    return findings
