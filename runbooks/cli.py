"""``python -m runbooks``: argument parsing over the library, nothing more."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional

from runbooks.databases import mask_text
from runbooks.errors import RunbookError, UsageError

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
    lines += [f"  {name:<13} {summary}\n  {'':<13} python -m runbooks {usage}" for name, usage, summary in TASKS]
    lines += ["", "Quick commands (Galaxy's own, in a Galaxy checkout):"]
    lines += [f"  {command:<48} {what}" for command, what in QUICK]
    lines += [
        "",
        "All three at once, faster: python -m runbooks status",
        "Run a task's notebook:     python -m runbooks run TASK",
        "Database: --db URL, $RUNBOOK_DB_URL, --galaxy-root DIR, or the embedded sample database.",
    ]
    return "\n".join(lines)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit 2."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _database_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="URL", help="database URL (else $RUNBOOK_DB_URL, --galaxy-root, sample)")
    parent.add_argument("--galaxy-root", metavar="DIR", help="a Galaxy checkout (its lib/ and config/galaxy.yml)")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m runbooks", description="Galaxy database-migration runbooks")
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

    run = commands.add_parser("run", parents=[database], help="execute a task's notebook with papermill")
    run.add_argument("notebook", metavar="TASK")
    run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), dest="parameters")
    run.add_argument("-o", "--output", metavar="PATH", help="where to save the executed notebook")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if not args.task:
            print(menu_text())
            return 0
        return HANDLERS[args.task](args)
    except RunbookError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug of ours: still one line, never the password
        if os.environ.get("RUNBOOK_DEBUG"):
            raise
        text = mask_text(f"{error.__class__.__name__}: {error}").splitlines()[0]
        print(f"internal error: {text} (rerun with RUNBOOK_DEBUG=1 for details)", file=sys.stderr)
        return 2


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_status(args) -> int:
    from runbooks.report import status_text
    from runbooks.selection import select
    from runbooks.status import get_status

    selection = select(args.db, args.galaxy_root, announce=_stderr)
    status = get_status(selection.db, selection.graph, selection.env)
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        print(status_text(status, selection.graph, history=args.history))
    return 0 if status.is_healthy else 1


def cmd_sample(args) -> int:
    from runbooks.databases import DatabaseUrl
    from runbooks.samples import make_sample, sample_target

    out = args.out if "://" in args.out else f"sqlite:///{os.path.abspath(args.out)}"
    db = DatabaseUrl.parse(out)
    target = sample_target(args.release, args.revision)
    rows = make_sample(db, target)
    print(f"Sample database {db} made by Galaxy's own code; alembic_version: {', '.join(rows)}")
    return 0


def cmd_run(args) -> int:
    from pathlib import Path

    from runbooks.execute import run_notebook
    from runbooks.selection import select

    selection = select(args.db, args.galaxy_root, announce=_stderr)
    output = run_notebook(
        args.notebook,
        dict(args.parameters),
        db=None if selection.is_sample else selection.db,
        output=Path(args.output) if args.output else None,
    )
    print(f"Executed {args.notebook} against {selection.db}; saved {output}")
    return 0


HANDLERS = {"status": cmd_status, "sample": cmd_sample, "run": cmd_run}
