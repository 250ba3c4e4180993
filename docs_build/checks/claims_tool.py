"""Claims about what this project's tool does on an upgrade, each checked by running the tool's own
functions on a small SQLite file (a lock, a backup, a read-back) or, where a run would need a
server or a Galaxy worker, by reading the code that does it."""

from __future__ import annotations

import ast
import inspect
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from docs_build.checks.claim_registry import _graph, check
from runbooks.paths import PROJECT_ROOT

HEAD_ROWS = ("d4a650f47a3c", "e7b6dcb09efd")  # any two revision ids: the tool only reads them back


def _sqlite_db(folder: Path, rows=HEAD_ROWS):
    from runbooks.database.urls import DatabaseUrl

    path = folder / "galaxy.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.executemany("INSERT INTO alembic_version VALUES (?)", [(r,) for r in rows])
    connection.close()
    return DatabaseUrl.parse(f"sqlite:///{path}")


_HOLDER = """
import sys
from runbooks.database.migration_lock import acquire
from runbooks.database.urls import DatabaseUrl
acquire(DatabaseUrl.parse(sys.argv[1]), "upgrade")
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def _held_by_another_process(db):
    """A second process holding the migration lock for an upgrade of ``db``."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, f"sqlite:///{db.sqlite_path}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def _cli_function(name: str) -> ast.FunctionDef:
    from runbooks.cli import main

    tree = ast.parse(inspect.getsource(main))
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def _calls_in_order(func: ast.FunctionDef) -> list[str]:
    calls = [n for n in ast.walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    return [c.func.attr for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset))]


@check
def upgrade_runbook_and_command(options=(), release=None):
    """The options the page lists are the upgrade parser's; the runbook (executed by the docs build)
    moves the sample back to ``release`` then upgrades to head; both apply with Galaxy's ``DbScript``."""
    from runbooks.cli.main import build_parser
    from runbooks.code.targets import release_back
    from runbooks.galaxy import child

    parser = build_parser()
    upgrade = parser._subparsers._group_actions[0].choices["upgrade"]
    flags = {flag for action in upgrade._actions for flag in action.option_strings}
    assert set(options) <= flags, set(options) - flags
    assert "from galaxy.model.migrations.dbscript import DbScript" in inspect.getsource(child)
    notebook = (PROJECT_ROOT / "notebooks" / "upgrade.ipynb").read_text(encoding="utf-8")
    assert "apply_change(change)" in notebook and 'target = \\"head\\"' in notebook
    assert 'plan_change(selection, start_release or release_back(selection.graph, 1), \\"downgrade\\")' in notebook
    assert release is None or release_back(_graph(), 1) == str(release)
    assert "execute the runbooks" in (PROJECT_ROOT / "docs_build" / "site_build" / "pipeline.py").read_text()
    assert "run_dbscript(" in inspect.getsource(__import__("runbooks.tasks.migrate", fromlist=["apply"]).apply)


# -- the migration lock -------------------------------------------------------------------------


@check
def migration_lock_one_at_a_time():
    """A lock file beside a SQLite database, an advisory lock on PostgreSQL; upgrade, downgrade and
    restore take it; a killed holder's lock is free again at once."""
    from runbooks.database import advisory_lock, migration_lock, restore
    from runbooks.errors import Refused
    from runbooks.tasks import change

    with tempfile.TemporaryDirectory() as folder:
        db = _sqlite_db(Path(folder))
        with _held_by_another_process(db) as holder:
            assert migration_lock.lock_file(db) == db.sqlite_path.with_name("galaxy.sqlite.runbooks-lock")
            assert migration_lock.lock_file(db).exists()
            try:
                migration_lock.acquire(db, "downgrade").release()
                raise AssertionError("a second lock was granted")
            except Refused:
                pass
            holder.send_signal(signal.SIGKILL)
            holder.wait()
        migration_lock.acquire(db, "upgrade").release()  # released by the system when the holder died
    assert "pg_try_advisory_lock" in inspect.getsource(advisory_lock)
    assert "acquire(change.selection.db, change.direction)" in inspect.getsource(change.take_lock)
    assert "finally:\n        release_lock(change)" in inspect.getsource(change.apply_change)  # held while Galaxy runs
    assert 'migration_lock(db, "restore")' in inspect.getsource(restore) or "acquire(" in inspect.getsource(restore)


@check
def a_second_run_is_refused_naming_the_first():
    """The refusal names the holder's command, pid and start time, exits 1, and comes (with the
    sessions) before the backup, so no restore line is printed."""
    from runbooks.database import migration_lock
    from runbooks.errors import Refused

    with tempfile.TemporaryDirectory() as folder:
        db = _sqlite_db(Path(folder))
        with _held_by_another_process(db) as holder:
            try:
                migration_lock.acquire(db, "upgrade")
                raise AssertionError("a second lock was granted")
            except Refused as refusal:
                assert str(refusal).startswith(f"another upgrade (pid {holder.pid}, started "), refusal
                assert "holds this database" in str(refusal) and refusal.exit_code == 1
    order = _calls_in_order(_cli_function("cmd_change"))
    assert order.index("check_sessions") < order.index("take_backup") < order.index("apply_change"), order


@check
def blocking_sessions_refuse_unless_ignored():
    from runbooks.cli.main import build_parser
    from runbooks.errors import Refused
    from runbooks.tasks import change

    source = inspect.getsource(change.check_sessions)
    assert "if change.activity.blockers and not ignore_sessions:" in source and "raise Refused(" in source
    assert Refused.exit_code == 1
    assert build_parser().parse_args(["upgrade", "--ignore-sessions"]).ignore_sessions is True
    order = _calls_in_order(_cli_function("cmd_change"))
    assert order.index("check_sessions") < order.index("apply_change")


# -- rehearsal and confirmation -----------------------------------------------------------------


@check
def rehearsal_runs_on_a_copy_and_nothing_else():
    """SQLite: a file copy; PostgreSQL: CREATE DATABASE ... TEMPLATE, else pg_dump/pg_restore; with
    --rehearse the command returns before the sessions, the backup and the change."""
    from runbooks.database import scratch
    from runbooks.galaxy import child
    from runbooks.tasks import rehearsal

    rehearse = inspect.getsource(rehearsal.rehearse)  # on the scratch copy, full or scoped (issue 26)
    assert "apply(scratch.db, plan, record_sql=True" in rehearse or "apply(scratch, plan, record_sql=True" in rehearse
    assert 'event.listen(Engine, "before_cursor_execute"' in inspect.getsource(child)  # every statement sent
    copy = inspect.getsource(scratch.copy_database)
    assert "copy_sqlite" in copy or "backup" in copy
    assert "TEMPLATE_COPY" in copy and "DUMP_COPY" in copy
    func = _cli_function("cmd_change")
    branch = next(n for n in ast.walk(func) if isinstance(n, ast.If) and ast.unparse(n.test) == "args.rehearse")
    assert isinstance(branch.body[-1], ast.Return)
    inside = {c for c in _calls_in_order(branch)}
    assert "run_rehearsal" in inside and not inside & {"check_sessions", "take_backup", "apply_change"}
    order = _calls_in_order(func)
    assert all(order.index(step) > order.index("run_rehearsal") for step in ("take_backup", "apply_change"))


@check
def a_failed_rehearsal_names_the_revision_error_and_way_out():
    from runbooks.tasks.rehearsal import Rehearsal

    outcome = SimpleNamespace(reached=False, stopped_at="upgrade cd26484899fb -> a5c5455b849a", errors=["x: y"])
    said = Rehearsal(outcome, "SQLite copy").summary()
    assert said == "Rehearsal FAILED on a SQLite copy at upgrade cd26484899fb -> a5c5455b849a:\nx: y", said
    source = ast.unparse(_cli_function("cmd_change"))
    assert "if not change.rehearsal.succeeded and change.explanation:" in source
    assert "Way out: {way_out_text(change)}" in source


@check
def a_named_database_changes_only_after_a_yes():
    from runbooks.cli import main
    from runbooks.errors import UsageError
    from runbooks.tasks.change import confirm_or_refuse

    change = SimpleNamespace(
        direction="upgrade",
        install_db=None,
        selection=SimpleNamespace(is_sample=False, db="sqlite:////x.sqlite"),
        plan=SimpleNamespace(target=SimpleNamespace(text="head"), revisions=["a"]),
    )
    for ask in (None, lambda question: False):  # no terminal; a terminal answering no
        try:
            confirm_or_refuse(change, False, ask)
            raise AssertionError("changed without a yes")
        except UsageError as refusal:
            assert refusal.exit_code == 2
    confirm_or_refuse(change, False, lambda question: True)
    confirm_or_refuse(change, True, None)  # --yes
    assert "return _ask if sys.stdin.isatty() else None" in inspect.getsource(main._asker)


# -- the backup ---------------------------------------------------------------------------------


@check
def backup_is_whole_with_its_manifest():
    """A real backup of a small SQLite file: the copy, its manifest beside it, nothing partial left."""
    from runbooks.database import backup as backups
    from runbooks.database.manifest import sha256_of

    with tempfile.TemporaryDirectory() as folder:
        db = _sqlite_db(Path(folder))
        made = backups.make_backup(db, Path(folder) / "backups")
        manifest = __import__("json").loads(made.manifest.read_text())
        assert made.manifest.name == made.path.name + ".manifest.json"
        assert manifest["alembic_version"] == list(HEAD_ROWS)
        assert manifest["size"] == made.path.stat().st_size and manifest["sha256"] == sha256_of(made.path)
        assert manifest["tool"].startswith("galaxy-runbooks ") and manifest["galaxy_data"]
        assert manifest["source"] == {"dialect": "sqlite", "path": str(db.sqlite_path)}
        assert sorted(p.name for p in made.path.parent.iterdir()) == sorted([made.path.name, made.manifest.name])
    writer = inspect.getsource(backups)
    assert ".backup(" in inspect.getsource(backups.backup_pages) + inspect.getsource(backups.copy_sqlite)
    assert '"pg_dump", db, ["-Fc"' in writer and "os.replace(partial, final)" in writer
    assert "_fsync(partial)" in writer and "PRAGMA quick_check" in writer and 'pg_restore", db, ["--list"' in writer
    assert backups.backups_dir().name == "backups"


@check
def a_failed_backup_leaves_no_file_and_stops():
    import errno

    from runbooks.database import backup as backups
    from runbooks.errors import RunbookError

    with tempfile.TemporaryDirectory() as folder:
        db = _sqlite_db(Path(folder))
        blocker = Path(folder) / "not-a-folder"
        blocker.write_text("")
        try:
            backups.make_backup(db, blocker / "backups")
            raise AssertionError("the backup did not fail")
        except RunbookError as error:
            assert "no backup was left and nothing was changed" in str(error)
        assert sorted(p.name for p in Path(folder).iterdir()) == ["galaxy.sqlite", "not-a-folder"]
    assert backups.why(OSError(errno.ENOSPC, "full")) == "no space left on the device"
    assert backups.why(OSError(errno.EROFS, "Read-only file system")).startswith("the folder is read-only")
    assert "--lock-wait-timeout=" in inspect.getsource(backups._write_dump)
    order = _calls_in_order(_cli_function("cmd_change"))
    assert order.index("take_backup") < order.index("apply_change")


# -- printed commands ---------------------------------------------------------------------------


@check
def printed_commands_are_quoted_and_repeat_the_database():
    from runbooks.cli import render
    from runbooks.database.urls import DatabaseUrl
    from runbooks.paths import program
    from runbooks.tasks.printed_commands import DatabaseArgs, command_line, for_url

    sqlite = DatabaseUrl.parse("sqlite:////abs/my galaxy.sqlite")
    line = command_line("restore", "/b/x y.sqlite", "--yes", database=for_url(sqlite))
    assert line == f"{program()} restore '/b/x y.sqlite' --yes --db 'sqlite:////abs/my galaxy.sqlite'", line
    secret = DatabaseUrl.parse("postgresql://galaxy:s3cret@db/galaxy")
    line = command_line("status", database=for_url(secret))
    assert line.endswith("--db '$RUNBOOK_DB_URL'") and "s3cret" not in line, line
    assert "export RUNBOOK_DB_URL=URL" in DatabaseArgs(secret).note()
    root = command_line("status", database=DatabaseArgs(None, galaxy_root=Path("/srv/galaxy")))
    assert root.endswith("status --galaxy-root /srv/galaxy"), root
    assert command_line("status", database=DatabaseArgs()) == f"{program()} status"  # the sample
    assert 'command_line("restore", path, "--yes"' in inspect.getsource(render)


# -- the read-back and the targets --------------------------------------------------------------


@check
def done_only_when_the_read_back_is_the_target():
    from runbooks.cli.render import outcome_text
    from runbooks.tasks import migrate

    assert "reached = set(rows) == plan.expected and not errors" in inspect.getsource(migrate._outcome)
    assert "rows = read_rows(db)" in inspect.getsource(migrate._outcome)  # read from the database afterwards
    assert "return _finish(args, change, 0 if change.succeeded else 1)" in ast.unparse(_cli_function("cmd_change"))
    plan = SimpleNamespace(target=SimpleNamespace(text="head"))

    def outcome(reached):
        return SimpleNamespace(
            reached=reached,
            rows=["a"],
            expected={"b"},
            standing=[],
            stopped_at="upgrade a -> b",
            errors=["OperationalError: x"],
            lock_attempts=[],
        )

    def text(reached):
        return outcome_text(SimpleNamespace(outcome=outcome(reached), plan=plan, explanation=None, backup=None))

    assert text(True).startswith("Done: alembic_version read back")
    failed = text(False)
    assert failed.startswith("NOT DONE") and "stopped while running: upgrade a -> b" in failed
    assert "database error: OperationalError: x" in failed


@check
def a_bad_target_gets_one_line_and_exit_2():
    from runbooks.errors import UsageError
    from runbooks.tasks.migrate import make_plan

    graph = _graph()
    tag = graph.release_tags["26.0"]
    merge = next(r for r, kids in graph.children.items() if len(kids) > 1)
    cases = {  # what is wrong, and what is valid
        ("is not a target", "use one of head"): ((tag,), "zzz"),
        ("is ambiguous", "type more characters"): ((tag,), "a"),
        ("is below the database's current revision", "use downgrade"): ((tag,), graph.release_tags["25.0"]),
        ("crosses", "name the revision you want"): ((merge,), "+2"),
    }
    for what, (rows, target) in cases.items():
        try:
            make_plan(graph, rows, target, "upgrade")
            raise AssertionError(f"{what}: {target!r} was accepted")
        except UsageError as error:
            assert error.exit_code == 2 and "\n" not in str(error), (what, error)
            assert all(words in str(error) for words in what), (what, error)


# -- interruptions ------------------------------------------------------------------------------


@check
def an_interrupt_stops_reads_back_and_says_where_it_stands():
    from runbooks.cli import interrupts

    assert interrupts.Interrupted(signal.SIGINT).exit_code == 130
    assert interrupts.Interrupted(signal.SIGTERM).exit_code == 143
    assert "stop_workers()" in inspect.getsource(interrupts.reported)
    with tempfile.TemporaryDirectory() as folder:
        db = _sqlite_db(Path(folder))
        change = SimpleNamespace(
            selection=SimpleNamespace(db=db, database_args=None), before=SimpleNamespace(rows=HEAD_ROWS), backup=None
        )
        line = interrupts.where_it_stands(change, interrupts.Interrupted(signal.SIGINT))
        assert line == f"interrupted by SIGINT; alembic_version now {', '.join(HEAD_ROWS)} (unchanged)", line
        change.before = SimpleNamespace(rows=("a91ea1d97111",))
        line = interrupts.where_it_stands(change, interrupts.Interrupted(signal.SIGTERM))
        assert line.endswith("(was a91ea1d97111); no backup was taken"), line
        change.backup = SimpleNamespace(path=Path("/b/galaxy.sqlite"))
        line = interrupts.where_it_stands(change, interrupts.Interrupted(signal.SIGINT))
        assert "; backup /b/galaxy.sqlite; restore with: `" in line, line
    assert "self.process.wait(" in inspect.getsource(__import__("runbooks.galaxy.client", fromlist=["x"])._Server.stop)


@check
def helpers_die_with_the_cli():
    from runbooks import lifetime
    from runbooks.database import backup
    from runbooks.galaxy import worker

    assert "prctl(PR_SET_PDEATHSIG, signal.SIGKILL)" in inspect.getsource(lifetime.die_with_parent)
    assert "preexec_fn=dies_with_us()" in inspect.getsource(backup.run_pg_tool)
    assert inspect.getsource(worker).count("die_with_parent(") >= 2  # the server, and its child
    assert "os.fork()" in inspect.getsource(worker)  # a forked child per command
