"""The one protocol for running Galaxy's code in another process: the shapes, and the server's command line.

The parent (``runbooks.galaxy.client``) starts one server per Galaxy code tree
(``python -m runbooks.galaxy.worker``, that tree's ``lib/`` first on ``PYTHONPATH``). The
server imports ``galaxy.model`` once and forks a fresh child for every request: Galaxy's
modules keep state between runs in one process (a PostgreSQL migration then a SQLite
downgrade in the same interpreter fails with "No such constraint"), so no two commands
share a process. A child dies with its server; the server ends when its stdin closes or
its parent dies.

Request, one JSON line on the server's stdin::

    {"command": a DbScript subcommand ("upgrade", "downgrade", "dbversion", ...)
                | "initialize" | "verdict" | "drift",
     "url": the database URL, password included (the pipe is the only place it travels:
            never a command line, never an environment the server starts with),
     "alembic_config": a workspace's alembic.ini, or null,
     "timeout": seconds before the child is killed, or null,
     "record_sql": bool, "arguments": {...}}          (DbScript's only)

Reply, exactly one line per request on the server's stdout, ``REPLY_PREFIX`` + JSON, one of::

    {"stdout", "migration_log", "errors", "statements"}   a DbScript subcommand, initialize
    {"verdict": "OK" | "ExceptionType: exact message"}    verdict
    {"differences": [{"kind", "table", "name", "detail", "covered"?}, ...]}   drift
    {"exception": {"type", "message", "partial"?: {"migration_log", "errors"}}}  Galaxy raised
    {"crashed": "wait status N"}                           the child died without an answer
    {"timed_out": seconds}                                 the child was killed at the timeout

While a DbScript subcommand runs, the child also writes ``PROGRESS_PREFIX`` + JSON lines to the
server's stdout, one per revision as Alembic starts it (``{"message": "Running upgrade A -> B, ..."}``,
from the ``alembic.runtime.migration`` log); the client hands them to a progress callback.

Every text in a reply is masked in the child: no password leaves it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass

from runbooks.paths import IMPORT_ROOT

REPLY_PREFIX = "RUNBOOK-REPLY "
PROGRESS_PREFIX = "RUNBOOK-PROGRESS "
SERVER_MODULE = "runbooks.galaxy.worker"


def server_command(lib_dir: str | None) -> tuple[list[str], dict[str, str]]:
    """The server's argv and environment: ``lib_dir`` (a checkout's), then this project, on the path."""
    env = dict(os.environ)
    paths = ([lib_dir] if lib_dir else []) + [str(IMPORT_ROOT)]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return [sys.executable, "-m", SERVER_MODULE], env


@dataclass
class CommandOutput:
    """What a DbScript subcommand printed and logged, and the database errors Galaxy's env swallowed."""

    stdout: str
    migration_log: list[str]
    errors: list[str]
    statements: list[str]

    def to_reply(self) -> dict:
        return asdict(self)

    @classmethod
    def from_reply(cls, reply: dict) -> CommandOutput:
        return cls(reply["stdout"], reply["migration_log"], reply["errors"], reply["statements"])
