"""Creating a gxy revision the way ``scripts/db_dev.sh revision -m MESSAGE`` does, then a starting body.

Galaxy's ``DbScript.revision`` runs in a fresh process (``galaxy_commands.run_dbscript``):
Alembic renders Galaxy's ``script.py.mako`` with ``head=gxy@head`` into
``versions_gxy/<rev>_<slug>.py``, in a checkout (``--galaxy-root``) or in a workspace copy of
the installed environment (``runbooks.code.workspace``). The template's empty ``op`` bodies are
then replaced with a starting body built on Galaxy's ``util`` helpers and
``with transaction():``; ``add_column_body`` writes a complete one (a column and its index,
guarded by the check functions so a rerun is safe).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph, read_revision
from runbooks.errors import GalaxyCommandFailed, RunbookError, UsageError
from runbooks.tasks.printed_commands import command_line

UTIL_MODULE = "galaxy.model.migrations.util"
MODEL_FILE = "lib/galaxy/model/__init__.py"
MAPPING_TESTS = "test/unit/data/model/mapping/test_*model_mapping.py"
_HEADER_END = re.compile(r"^# revision identifiers, used by Alembic\.$", re.MULTILINE)
_FIRST_DEF = re.compile(r"^def upgrade\(\):", re.MULTILINE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class RevisionBody:
    """What goes around and into ``upgrade()``/``downgrade()``: helpers imported, constants, bodies."""

    helpers: tuple[str, ...]
    upgrade: str
    downgrade: str
    constants: str = ""
    comment: str = ""

    def imports(self) -> str:
        lines = ["import sqlalchemy as sa", ""]
        names = sorted(set(self.helpers))
        if len(names) == 1:
            lines.append(f"from {UTIL_MODULE} import {names[0]}")
        else:
            lines += [f"from {UTIL_MODULE} import ("] + [f"    {n}," for n in names] + [")"]
        return "\n".join(lines) + "\n"

    def functions(self) -> str:
        """Module constants (after one blank line), then the two functions (after two)."""
        constants = self.constants.strip("\n") + "\n\n\n" if self.constants else "\n"
        upgrade = "def upgrade():\n" + _indent(self.upgrade)
        return constants + upgrade + "\n\n" + "def downgrade():\n" + _indent(self.downgrade)


def _indent(body: str) -> str:
    return "\n".join(("    " + line) if line.strip() else "" for line in body.strip("\n").splitlines()) + "\n"


STARTING_BODY = RevisionBody(
    helpers=("transaction",),
    comment=(
        "# Galaxy's helpers (galaxy.model.migrations.util): import the ones you use. Each runs in\n"
        "# batch mode on SQLite and, with --repair, skips an object that already exists:\n"
        "#   create_table, drop_table, add_column, drop_column, alter_column, create_index,\n"
        "#   drop_index, create_foreign_key, create_unique_constraint, drop_constraint\n"
        "# Checks, where a database may already have the change (idempotency, reruns):\n"
        "#   table_exists, column_exists, index_exists, foreign_key_exists, unique_constraint_exists\n"
    ),
    upgrade="""
with transaction():
    # Replace `pass` with the change, for example a nullable column and its index:
    #     if not column_exists("stored_workflow", "my_column", False):
    #         add_column("stored_workflow", sa.Column("my_column", sa.Integer, nullable=True))
    #     if not index_exists("ix_stored_workflow_my_column", "stored_workflow", False):
    #         create_index("ix_stored_workflow_my_column", "stored_workflow", ["my_column"])
    pass
""",
    downgrade="""
with transaction():
    # Undo upgrade() in reverse order, for example:
    #     drop_index("ix_stored_workflow_my_column", "stored_workflow")
    #     drop_column("stored_workflow", "my_column")
    # A change that cannot be undone: leave `pass` and say here that the revision is one-way.
    pass
""",
)


def add_column_body(
    table: str, column: str, type_: str = "sa.Integer", index: bool = True, guard: bool = True
) -> RevisionBody:
    """A nullable column (and its ``ix_<table>_<column>`` index) on an existing table.

    ``guard``: wrap each step in its check (``column_exists``/``index_exists``) so a database
    that already has the object (a rerun, a hand fix, #21699) does not fail.
    """
    for name in (table, column):
        if not _NAME.match(name):
            raise UsageError(f"{name!r} is not a table or column name: use letters, digits and _")
    index_name = f"ix_{table}_{column}"
    constants = f'table_name = "{table}"\ncolumn_name = "{column}"\n'
    helpers = ["transaction", "add_column", "drop_column"]
    add = f"add_column(table_name, sa.Column(column_name, {type_}, nullable=True))"
    up = [f"if not column_exists(table_name, column_name, False):\n    {add}"] if guard else [add]
    down = ["drop_column(table_name, column_name)"]
    if guard:
        helpers.append("column_exists")
    if index:
        constants += f'index_name = "{index_name}"\n'
        helpers += ["create_index", "drop_index"]
        make = "create_index(index_name, table_name, [column_name])"
        up.append(f"if not index_exists(index_name, table_name, False):\n    {make}" if guard else make)
        down.insert(0, "drop_index(index_name, table_name)")
        if guard:
            helpers.append("index_exists")
    return RevisionBody(
        helpers=tuple(helpers),
        constants=constants,
        upgrade="with transaction():\n" + _indent("\n".join(up)),
        downgrade="with transaction():\n" + _indent("\n".join(down)),
    )


@dataclass
class CreatedRevision:
    path: Path
    revision: str
    down_revision: str | None
    message: str
    env: GalaxyEnv
    in_workspace: bool
    galaxy_output: str = ""
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def next_steps(self) -> list[str]:
        where = "the workspace copy" if self.in_workspace else "your Galaxy checkout"
        place = ["--workspace", self.env.migrations_dir] if self.in_workspace else ["--galaxy-root", self.env.root]
        steps = [
            f"Fill in upgrade() and downgrade() in {self.path} ({where}).",
            f"Change the model to match: {MODEL_FILE}, with a test in {MAPPING_TESTS}.",
            f"Lint it: `{command_line('lint', self.path.resolve(), *place)}`",
            "Prove it both ways on scratch databases (upgrade, downgrade, upgrade, then the model "
            "comparison): runbooks.tasks.revision_proof.prove_revision, as notebooks/create.ipynb does.",
        ]
        if self.in_workspace:
            steps.append(
                "Copy the file into lib/galaxy/model/migrations/alembic/versions_gxy/ of a Galaxy checkout "
                "to ship it (the installed galaxy-data package is never changed)."
            )
        else:
            steps.append("Run it on your dev database: sh manage_db.sh upgrade")
        return steps

    def summary(self) -> str:
        lines = [f"Created {self.path}", f"  revision {self.revision}, revises {self.down_revision} (gxy head)"]
        lines += [f"  note: {note}" for note in self.notes]
        lines += ["Next steps:"] + [f"  {n}. {step}" for n, step in enumerate(self.next_steps(), 1)]
        return "\n".join(lines)


def check_message(message: str | None) -> str:
    text = (message or "").strip()
    if not text:
        raise UsageError("the revision message is empty: say what the revision does, e.g. -m 'Add job.foo column'")
    if "\n" in text or '"""' in text or text.endswith('"'):
        raise UsageError("the revision message must be one line without triple quotes or a closing quote")
    if "\\" in text or not text.isprintable():
        raise UsageError(
            "the revision message has a backslash or a control character, which Galaxy's template would write "
            "into the file's docstring as an escape: write it without"
        )
    return text


def target_env(galaxy_root: str | None = None, workspace: str | None = None) -> tuple[GalaxyEnv, bool]:
    """Where the new file goes: a checkout's versions_gxy, else a workspace. Returns (env, in_workspace)."""
    from runbooks.code.workspace import ensure_workspace

    if galaxy_root and workspace:
        raise UsageError("give --galaxy-root or --workspace, not both")
    if galaxy_root:
        return GalaxyEnv.from_checkout(galaxy_root), False
    return ensure_workspace(workspace), True


def create_revision(
    message: str, env: GalaxyEnv, in_workspace: bool | None = None, body: RevisionBody | None = STARTING_BODY
) -> CreatedRevision:
    """Galaxy's ``DbScript.revision`` (what ``db_dev.sh revision -m`` runs) in ``env``, then ``body``."""
    from runbooks.database.urls import DatabaseUrl
    from runbooks.galaxy.commands import run_dbscript

    message = check_message(message)
    if in_workspace is None:
        in_workspace = env.root is None
    if env.root is None and not in_workspace:
        raise UsageError("the installed galaxy-data package is never modified: create in a workspace or a checkout")
    graph = RevisionGraph.load(env)
    heads = graph.heads("gxy")
    if len(heads) != 1:
        raise UsageError(
            f"the gxy branch has {len(heads)} heads ({', '.join(heads)}): merge them first "
            "(db_dev.sh revision would fail with 'Multiple heads are present')"
        )
    versions = env.versions_dir("gxy")
    before = {p.name for p in versions.glob("*.py")}
    with tempfile.TemporaryDirectory(prefix="runbooks-revision-") as scratch:
        # DbScript needs a database URL to start; `revision` never connects to it.
        unused = DatabaseUrl.parse(f"sqlite:///{Path(scratch) / 'unused.sqlite'}")
        try:
            output = run_dbscript(unused, "revision", env=env, message=message, rev_id=None)
        except GalaxyCommandFailed as error:
            _remove_new(versions, before)
            raise RunbookError(f"Galaxy's revision command failed: {error.galaxy_message}; no file was left") from None
    new = sorted({p.name for p in versions.glob("*.py")} - before)
    if len(new) != 1:
        raise RunbookError(f"expected one new file in {versions}, found {len(new)}: {', '.join(new) or 'none'}")
    path = versions / new[0]
    revision = read_revision(path, "gxy")
    created = CreatedRevision(
        path,
        revision.id,
        revision.parents[0] if revision.parents else None,
        message,
        env,
        in_workspace,
        output.stdout,
    )
    if body is not None:
        write_body(path, body, created.notes)
    _validate_or_remove(created, heads[0])
    return created


def _remove_new(versions: Path, before: set[str]) -> None:
    for name in {p.name for p in versions.glob("*.py")} - before:
        (versions / name).unlink(missing_ok=True)


def _validate_or_remove(created: CreatedRevision, head: str) -> None:
    """The file must parse and be the branch's one new head on top of ``head``; else it is removed."""
    try:
        graph = RevisionGraph.load(created.env)
        accepted = graph.heads("gxy") == [created.revision] and created.down_revision == head
    except UsageError:
        accepted = False
    if not accepted:
        remove_revision(created)
        raise UsageError(
            f"the revision Galaxy's template rendered from this message is not a valid revision file, so it was "
            f"removed ({created.path.name}): try a plainer message"
        )


def write_body(path: Path, body: RevisionBody, notes: list[str] | None = None) -> None:
    """Replace the template's imports and its ``upgrade()``/``downgrade()`` with ``body``.

    The docstring and the revision identifiers Galaxy's template wrote stay as they are.
    """
    text = Path(path).read_text(encoding="utf-8")
    header_end = _HEADER_END.search(text)
    first_def = _FIRST_DEF.search(text)
    docstring_end = text.find('"""', text.find('"""') + 3) + 3 if text.startswith('"""') else -1
    if not header_end or not first_def or docstring_end < 3 or not (docstring_end < header_end.start()):
        if notes is not None:
            notes.append("the template's layout is not the one expected: the body was left as Galaxy wrote it")
        return
    identifiers = text[header_end.start() : first_def.start()].rstrip("\n")
    head = text[:docstring_end] + "\n\n" + body.imports() + ("\n" + body.comment if body.comment else "")
    Path(path).write_text(head + "\n" + identifiers + "\n\n" + body.functions(), encoding="utf-8")


def fill_in(created: CreatedRevision | Path, body: RevisionBody) -> str:
    """Write ``body`` into the revision file; returns the new text."""
    path = created.path if isinstance(created, CreatedRevision) else Path(created)
    write_body(path, body)
    return path.read_text(encoding="utf-8")


def remove_revision(created: CreatedRevision) -> None:
    """Delete the file (and its compiled copy): the workspace or checkout is as before ``create``."""
    created.path.unlink(missing_ok=True)
    cache = created.path.parent / "__pycache__"
    for compiled in cache.glob(f"{created.path.stem}.*.pyc"):
        compiled.unlink(missing_ok=True)


# -- lint, with the graph the files belong to ------------------------------------------


def env_for_paths(paths, galaxy_root: str | None = None, workspace: str | None = None) -> GalaxyEnv:
    """The environment whose revision graph the files are checked against.

    A file inside a workspace is checked against that workspace (so ``not-current-head``
    sees the revisions created there); else ``--workspace``, ``--galaxy-root``/``$GALAXY_ROOT``,
    or the installed package.
    """
    from runbooks.code.workspace import MARKER, ensure_workspace

    for path in paths:
        for folder in Path(path).resolve().parents:
            if (folder / MARKER).is_file():
                return GalaxyEnv(folder)
    if workspace:
        return ensure_workspace(workspace)
    return GalaxyEnv.locate(galaxy_root)


@dataclass
class LintRun:
    results: dict
    env: GalaxyEnv
    rehearsed: dict = field(default_factory=dict)  # path -> the SQL the upgrade executed on PostgreSQL
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        from runbooks.lint.command import format_text

        lines = [format_text(self.results)]
        for path, statements in self.rehearsed.items():
            lines.append(f"{path}: rehearsed on a PostgreSQL scratch database, {len(statements)} statement(s) checked")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict:
        from runbooks.lint.command import results_to_json

        document = results_to_json(self.results)
        document["rehearsed_sql"] = {str(path): statements for path, statements in self.rehearsed.items()}
        document["notes"] = self.notes
        return document

    @property
    def exit_code(self) -> int:
        from runbooks.lint.command import exit_code

        return exit_code(self.results)


def lint_revisions(
    paths, galaxy_root: str | None = None, workspace: str | None = None, pg: str | None = None
) -> LintRun:
    """``lint_paths`` with the right graph; plus squawk on the SQL each new revision executes on PostgreSQL.

    The SQL comes from a rehearsal on a scratch PostgreSQL database (``pg``, else
    ``$RUNBOOK_PG_URL``): offline ``--sql`` output misses what Galaxy's helpers emit.
    Without a server, squawk is skipped and a note says so.
    """
    from dataclasses import replace

    from runbooks.lint.command import lint_paths
    from runbooks.tasks.revision_proof import pg_server, rehearse_sql, squawk_findings

    paths = [Path(p) for p in paths]
    env = env_for_paths(paths, galaxy_root, workspace)
    graph = RevisionGraph.load(env)
    run = LintRun(lint_paths(paths, graph), env)
    server = pg_server(explicit=pg) if pg else None  # a server named with --pg must answer
    new = [p for p in run.results if _is_new_revision(p, graph)]
    if not new:
        return run
    server = server or pg_server()
    if server is None:
        run.notes.append("squawk skipped: no PostgreSQL server to rehearse on (pass --pg URL or set $RUNBOOK_PG_URL)")
        return run
    for path in new:
        try:
            statements = rehearse_sql(path, env, server)
        except RunbookError as error:
            run.notes.append(f"{path}: no rehearsal ({error})")
            continue
        run.rehearsed[path] = statements
        for f in squawk_findings(statements):
            message = f"squawk, on the SQL the upgrade executed (statement line {f.line}): {f.message}"
            run.results[path].append(replace(f, line=0, message=message))
    return run


def _is_new_revision(path: Path, graph: RevisionGraph) -> bool:
    """A revision of ``graph`` that is not part of the installed galaxy-data (worth a rehearsal)."""
    try:
        revision = read_revision(path, "gxy") if path.suffix == ".py" else None
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return False
    if revision is None or revision.id not in graph.revisions or len(revision.parents) != 1:
        return False
    installed = RevisionGraph.load(GalaxyEnv.from_package())
    return revision.id not in installed.revisions
