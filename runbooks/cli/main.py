"""``galaxy-migrations`` (``python -m runbooks`` in a clone): argument parsing over the library, nothing more."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys

from runbooks.database.urls import mask_text
from runbooks.errors import RunbookError, UsageError
from runbooks.paths import program
from runbooks.settings import DEBUG_ENV

# the rehearsal modes as flags: an optional value on --rehearse would swallow `upgrade --rehearse 26.0`'s target
REHEARSE_MODES = {"--rehearse=full": "--rehearse-full", "--rehearse=scoped": "--rehearse"}
TASKS = [
    ("create", "create -m MESSAGE", "Create a new migration revision (Galaxy's template), lint it, prove it"),
    ("upgrade", "upgrade [TARGET] [--rehearse]", "Upgrade the database (default: both branches to head)"),
    ("downgrade", "downgrade TARGET [--rehearse]", "Downgrade to a revision, release tag, gxy@-1 or base"),
    ("status", "status [--json]", "Current revision(s) against the code: heads, release, pending"),
    ("troubleshoot", "troubleshoot [--json]", "Diagnose migration problems, each with a fix"),
]
QUICK = [
    ("./scripts/db_dev.sh dbversion", "current revision(s) of the database"),
    ("./scripts/db_dev.sh version", "head revision(s) in the code"),
    ("./scripts/db_dev.sh history --indicate-current", "history with the current position"),
]


def menu_text() -> str:
    lines = ["Galaxy database migrations: runbooks", "", "Tasks:"]
    name_used = program()
    lines += [f"  {name:<13} {summary}\n  {'':<13} {name_used} {usage}" for name, usage, summary in TASKS]
    lines += ["", "Quick commands (Galaxy's own, in a Galaxy checkout):"]
    lines += [f"  {command:<48} {what}" for command, what in QUICK]
    lines += [
        "",
        f"All three at once, faster: {name_used} status",
        f"Run a task's notebook:     {name_used} run TASK",
        "Database: --db URL, $RUNBOOK_DB_URL, --galaxy-root DIR, or the embedded sample database.",
    ]
    return "\n".join(lines)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit 2."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _database_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--db", metavar="URL", help="database URL, or '$RUNBOOK_DB_URL' (else $RUNBOOK_DB_URL, --galaxy-root, sample)"
    )
    parent.add_argument("--galaxy-root", metavar="DIR", help="a Galaxy checkout (its lib/ and config/galaxy.yml)")
    parent.add_argument(
        "--install-db",
        metavar="URL",
        help="a separate tool shed install (tsi) database, or '$RUNBOOK_INSTALL_DB_URL' (else its configured one)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=program(), description="Galaxy database-migration runbooks")
    parser.add_argument(
        "--version",
        action="store_true",
        help="print this tool's version and the galaxy-data it uses (with --galaxy-root DIR: the checkout's Galaxy)",
    )
    commands = parser.add_subparsers(dest="task", parser_class=OneLineParser)
    database = _database_options()

    status = commands.add_parser("status", parents=[database], help="where the database stands")
    status.add_argument("--json", action="store_true", help="the JSON contract instead of text")
    status.add_argument("--history", type=int, default=8, metavar="N", help="history lines to show (0: none)")

    sample = commands.add_parser("sample", help="make a practice database with Galaxy's own code")
    which = sample.add_mutually_exclusive_group()
    which.add_argument("--release", metavar="TAG", help="a release tag, e.g. 25.0")
    which.add_argument("--revision", metavar="REV", help="a revision id or prefix")
    sample.add_argument("out", metavar="OUT", help="a SQLite file path or a postgresql:// URL")
    sample.add_argument("--galaxy-root", metavar="DIR", help="a Galaxy checkout whose code makes the database")

    for direction in ("upgrade", "downgrade"):
        change = commands.add_parser(direction, parents=[database], help=f"{direction} the database, verified")
        change.add_argument(
            "target",
            nargs="?" if direction == "upgrade" else None,
            default="head" if direction == "upgrade" else None,
            metavar="TARGET",
            help="head, a release tag (25.0), a revision or prefix, gxy@head, gxy@+1, gxy@-1, REV-1, base",
        )
        change.add_argument("--rehearse", action="store_const", const="scoped",
                            help="run on a throwaway copy only; show the SQL (=full: every row)")  # fmt: skip
        change.add_argument("--rehearse-full", action="store_const", dest="rehearse", const="full",
                            help=argparse.SUPPRESS)  # fmt: skip
        change.add_argument("--no-backup", action="store_true", help="skip the backup (not recommended)")
        change.add_argument("--yes", action="store_true", help="answer yes to the confirmation (scripts, CI)")
        change.add_argument("--json", action="store_true", help="a JSON report instead of text")
        change.add_argument("--ignore-sessions", action="store_true", help="go ahead despite blocking sessions")
        change.add_argument("--ignore-preflight", action="store_true", help="go ahead despite pre-flight gaps")
        change.add_argument("--show-sql", type=int, default=20, metavar="N", help="rehearsed statements to print")
        change.add_argument("--lock-timeout", metavar="DURATION", help="PostgreSQL: wait at most this for a lock (5s)")
        change.add_argument("--retries", type=int, metavar="N", help="with --lock-timeout: tries after a timeout (3)")

    restore = commands.add_parser("restore", parents=[database], help="put a backup back, in one command")
    restore.add_argument("backup", metavar="BACKUP", help="a backup file printed by upgrade/downgrade")
    restore.add_argument("--yes", action="store_true", help="answer yes to the confirmation")
    restore.add_argument("--force", action="store_true", help="restore a non-Galaxy file or another database's backup")
    restore.add_argument("--no-keep", action="store_true", help="keep no copy of the database the restore replaces")

    create = commands.add_parser("create", help="a new gxy revision from Galaxy's template (checkout or workspace)")
    create.add_argument("-m", "--message", required=True, metavar="MESSAGE", help="what the revision does")
    create.add_argument("--workspace", metavar="DIR", help="a workspace folder (default .runbooks/workspace)")
    create.add_argument("--galaxy-root", metavar="DIR", help="a Galaxy checkout: write into its versions_gxy")

    lint = commands.add_parser("lint", help="check revision files (rules, graph, squawk on the executed SQL)")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="revision files or a versions directory")
    lint.add_argument("--json", action="store_true", help="findings as JSON")
    lint.add_argument("--galaxy-root", metavar="DIR", help="the Galaxy checkout the files belong to")
    lint.add_argument("--workspace", metavar="DIR", help="the workspace the files belong to")
    lint.add_argument("--pg", metavar="URL", help="PostgreSQL server to rehearse new revisions on, for squawk")

    troubleshoot = commands.add_parser("troubleshoot", parents=[database], help="diagnose migration problems")
    troubleshoot.add_argument("--json", action="store_true", help='{"findings": [...]} instead of text')
    troubleshoot.add_argument("--drift", action="store_true", help="also compare the schema with Galaxy's models")
    rehearsal = troubleshoot.add_mutually_exclusive_group()
    rehearsal.add_argument("--rehearse", action="store_true", default=None, help="rehearse the upgrade at any size")
    rehearsal.add_argument("--no-rehearse", action="store_false", dest="rehearse", help="never rehearse")
    troubleshoot.add_argument("--every-foreign-key", action="store_true", help="PostgreSQL: check enforced keys too")
    troubleshoot.add_argument("-v", "--verbose", action="store_true", help="show each finding's details")

    run = commands.add_parser("run", parents=[database], help="execute a task's notebook with papermill")
    run.add_argument("notebook", metavar="TASK")
    run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), dest="parameters")
    run.add_argument("-o", "--output", metavar="PATH", help="where to save the executed notebook")
    return parser


def main(argv: list[str] | None = None) -> int:
    from runbooks.cli import interrupts

    argv = sys.argv[1:] if argv is None else argv
    interrupts.install()
    try:
        asked = _version_request(argv)
        if asked is not None:
            from runbooks.cli.versions import version_text

            print(version_text(asked.galaxy_root))
            return 0
        args = build_parser().parse_args([REHEARSE_MODES.get(arg, arg) for arg in argv])
        if not args.task:
            print(menu_text())
            return 0
        code = HANDLERS[args.task](args)
        sys.stdout.flush()  # a closed pipe must fail here, not in the interpreter's exit
        return code
    except RunbookError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as error:
        interrupts.stop_workers()
        interrupted = interrupts.as_interrupted(error)
        print(mask_text(interrupted.report), file=sys.stderr)
        return interrupted.exit_code
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:  # a bug of ours: still one line, never the password
        if os.environ.get(DEBUG_ENV):
            raise
        from runbooks.cli.known_failures import explain

        known = explain(error)
        if known is not None:  # the environment's doing (a role's timeout, a full folder): what to change
            print(f"error: {known}", file=sys.stderr)
            return 2
        text = mask_text(f"{error.__class__.__name__}: {error}").splitlines()[0]
        print(f"internal error: {text} (rerun with RUNBOOK_DEBUG=1 for details)", file=sys.stderr)
        return 2


def _version_request(argv: list[str]):
    """``--version [--galaxy-root DIR]`` alone (in any order); None for anything else."""
    if "--version" not in argv:
        return None
    parser = OneLineParser(prog=program(), add_help=False)
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--galaxy-root", metavar="DIR")
    asked, rest = parser.parse_known_args(argv)
    return None if rest else asked


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_status(args) -> int:
    from runbooks.cli.render import status_text
    from runbooks.tasks.legacy_plan import lines_for
    from runbooks.tasks.pair_status import status_for
    from runbooks.tasks.selection import select

    selection = select(args.db, args.galaxy_root, announce=_stderr, install_db=args.install_db)
    status = status_for(selection)
    if args.json:
        plan = lines_for(status, selection.graph, selection.database_args)
        extra = {"database_source": selection.to_json(), "legacy_plan": plan}
        print(json.dumps(status.to_json(selection.database_args) | extra, indent=2))
    else:
        text = status_text(
            status, selection.graph, history=args.history, database=selection.database_args, chosen_by=selection.origin
        )
        print(text)
    return 0 if status.is_healthy else 1


def cmd_sample(args) -> int:
    from runbooks.code.environment import GalaxyEnv
    from runbooks.database.urls import DatabaseUrl
    from runbooks.tasks.samples import make_sample, sample_target

    out = args.out if "://" in args.out else f"sqlite:///{os.path.abspath(args.out)}"
    db = DatabaseUrl.parse(out)
    target = sample_target(args.release, args.revision)
    env = GalaxyEnv.from_checkout(args.galaxy_root) if args.galaxy_root else None
    rows = make_sample(db, target, env=env)
    print(f"Sample database {db} made by Galaxy's own code; alembic_version: {', '.join(rows)}")
    return 0


def cmd_run(args) -> int:
    from runbooks.cli.notebook_run import check_parameters, notebook_path, output_path, run_notebook, with_galaxy_root
    from runbooks.cli.parameters import typed_parameters
    from runbooks.cli.runbook_outcome import read_outcome
    from runbooks.tasks.selection import select

    # bad input is refused before anything is made
    check_parameters(dict(args.parameters))
    parameters = typed_parameters(args.notebook, notebook_path(args.notebook), args.parameters)
    output = output_path(args.notebook, args.output)
    selection = select(args.db, args.galaxy_root, announce=_stderr, install_db=args.install_db)
    parameters = with_galaxy_root(args.notebook, parameters, selection.env.root)
    install = selection.install.db if selection.install is not None else None
    db = None if selection.is_sample else selection.db
    output = run_notebook(args.notebook, parameters, db=db, output=output, install_db=install)
    print(f"Executed {args.notebook} against {selection.describe()}; saved {output}")
    found = read_outcome(output)  # the runbook's own last word: what it changed, and the state after
    if found is None:
        return 0
    code, text = found
    print(text)
    return code


def _ask(question: str) -> bool:
    return input(question).strip().lower() in ("y", "yes")


def _asker():
    return _ask if sys.stdin.isatty() else None


def cmd_change(args) -> int:
    from runbooks.cli.interrupts import reported
    from runbooks.cli.render import activity_text, backup_text, outcome_text, plan_text, rehearsal_text, way_out_text
    from runbooks.galaxy.commands import warm_up
    from runbooks.progress import reporting
    from runbooks.tasks import change as steps
    from runbooks.tasks.forecast import forecast_for
    from runbooks.tasks.lock_wait import policy_from_args
    from runbooks.tasks.selection import select

    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout, flush=True)
    selection = select(args.db, args.galaxy_root, announce=_stderr, install_db=args.install_db)
    lock_policy = policy_from_args(args.lock_timeout, args.retries, selection.db)
    warm_up(selection.env)  # Galaxy's import (seconds) runs while the pre-flight reads the database
    change = steps.plan_change(selection, args.target, args.task)
    say(f"Database: {selection.describe()}")
    say(plan_text(change.plan, selection.graph, selection.db.dialect))
    predicted = forecast_for(selection.db, change.plan.revisions) if args.task == "upgrade" else None
    if predicted and predicted.revisions:
        say(predicted.text())
    if lock_policy is not None and not args.rehearse:
        say(f"With {lock_policy.describe()}: one Galaxy call per revision, each its own transaction")
    if change.plan.is_noop:
        return _finish(args, change, 0)
    check = steps.run_preflight(change, backup=not (args.no_backup or args.rehearse))
    if check.text():
        say(check.text())
    if not args.rehearse:
        steps.refuse_gaps(change, args.ignore_preflight)
    if args.rehearse:
        with reporting(say, "  rehearsal "):  # each revision as Galaxy applies it, on the copy
            steps.run_rehearsal(change, full=args.rehearse == "full")
        say(rehearsal_text(change.rehearsal, args.show_sql))
        if not change.rehearsal.succeeded and change.explanation:
            say(f"Cause: {change.explanation.cause}\nWay out: {way_out_text(change)}")
        return _finish(args, change, 0 if change.rehearsal.succeeded else 1)
    say(activity_text(steps.check_sessions(change, args.ignore_sessions)))
    steps.confirm_or_refuse(change, args.yes, _asker())
    with reported(change):  # SIGINT/SIGTERM: stop, read back, say where it stands
        if not args.no_backup:
            steps.take_backup(change)
            say(backup_text(change))
        with reporting(say):  # each revision as Galaxy applies it
            steps.apply_change(change, lock_policy, say)
    say(outcome_text(change))
    return _finish(args, change, 0 if change.succeeded else 1)


def _finish(args, change, code: int) -> int:
    if args.json:
        from runbooks.cli.render import change_json

        print(json.dumps(change_json(change), indent=2))
    return code


def cmd_restore(args) -> int:
    from pathlib import Path

    from runbooks.cli import interrupts
    from runbooks.database.backup_set import restore_selection
    from runbooks.database.restore import restore_progress
    from runbooks.tasks.selection import select

    selection = select(args.db, args.galaxy_root, create_sample=False, announce=_stderr, install_db=args.install_db)
    if not args.yes and not selection.is_sample:
        ask = _asker()
        if ask is None:
            raise UsageError(f"{selection.db} would be replaced by {args.backup}: confirm in a terminal or pass --yes")
        if not ask(f"Replace {selection.db} with {args.backup}? [y/N] "):
            raise UsageError("not confirmed: nothing was changed")
    print(f"Database: {selection.describe()}")  # stdout: stderr holds only the one line of a refusal
    install = selection.install.db if selection.install is not None else None
    before = interrupts.rows_or_none(selection.db)
    with restore_progress() as progress:
        try:
            done = restore_selection(Path(args.backup), selection.db, install, force=args.force, keep=not args.no_keep)
        except KeyboardInterrupt as error:  # say whether the database was already replaced
            raise interrupts.restore_interrupted(error, selection.db, progress.stage, before) from None
    print("\n".join(restored.text() for restored in done))
    return 0


def cmd_create(args) -> int:
    from runbooks.tasks.create import check_message, create_revision, target_env

    message = check_message(args.message)  # before a workspace is made
    env, in_workspace = target_env(args.galaxy_root, args.workspace)
    print(create_revision(message, env, in_workspace).summary())
    return 0


def cmd_lint(args) -> int:
    from runbooks.tasks.create import lint_revisions

    run = lint_revisions(args.paths, args.galaxy_root, args.workspace, args.pg)
    print(json.dumps(run.to_json(), indent=2) if args.json else run.text())
    return run.exit_code


def cmd_troubleshoot(args) -> int:
    from runbooks.doctor import diagnose
    from runbooks.tasks.selection import select

    selection = select(args.db, args.galaxy_root, announce=_stderr, install_db=args.install_db)
    options = {"rehearse": args.rehearse, "drift": args.drift, "every_foreign_key": args.every_foreign_key}
    options |= {"database": selection.database_args, "elsewhere": selection.warnings}
    if selection.install is not None:
        from runbooks.doctor.pair_diagnosis import diagnose_pair

        report = diagnose_pair(selection.db, selection.install.db, selection.graph, selection.env, **options)
    else:
        report = diagnose(selection.db, selection.graph, selection.env, **options)
    report.source = selection.to_json()
    print(json.dumps(report.to_json(), indent=2) if args.json else report.text(verbose=args.verbose))
    return 1 if report.has_errors else 0


HANDLERS = {
    "status": cmd_status,
    "sample": cmd_sample,
    "run": cmd_run,
    "upgrade": cmd_change,
    "downgrade": cmd_change,
    "restore": cmd_restore,
    "create": cmd_create,
    "lint": cmd_lint,
    "troubleshoot": cmd_troubleshoot,
}
