"""The one protocol for running Galaxy's code in another process: the shapes, and the server's command line.

The parent (``runbooks.galaxy.client``) starts one server per Galaxy code tree
(``python -m runbooks.galaxy.worker PARENT_PID``; for a checkout, its venv's Python runs
``runbooks.galaxy.bootstrap``, that tree's ``lib/`` first on ``PYTHONPATH``). The
server imports ``galaxy.model`` once and forks a fresh child for every request: Galaxy's
modules keep state between runs in one process (a PostgreSQL migration then a SQLite
downgrade in the same interpreter fails with "No such constraint"), so no two commands
share a process. A child dies with its server; the server ends when its stdin closes, its
parent (PARENT_PID) dies, or it gets SIGTERM (then it kills and reaps a running child first).

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
    {"refused": "one line"}                                the server cannot import the Galaxy code
                                                           (a module it needs is missing)

While a DbScript subcommand runs, the child also writes ``PROGRESS_PREFIX`` + JSON lines to the
server's stdout, one per revision as Alembic starts it (``{"message": "Running upgrade A -> B, ..."}``,
from the ``alembic.runtime.migration`` log); the client hands them to a progress callback.

Every text in a reply is masked in the child: no password leaves it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from runbooks.galaxy.bootstrap import REPLY_PREFIX  # noqa: F401  (the protocol's; the bootstrap answers with it too)
from runbooks.paths import IMPORT_ROOT
from runbooks.settings import CHECKOUT_ENV

PROGRESS_PREFIX = "RUNBOOK-PROGRESS "
SERVER_MODULE = "runbooks.galaxy.worker"


def server_command(lib_dir: str | None) -> tuple[list[str], dict[str, str], str | None]:
    """The server's argv, environment and working directory.

    For a checkout (``lib_dir`` is its ``lib/``) the server runs the way Galaxy's own
    scripts run: in the checkout root, ``lib/`` first on the path, with the checkout's
    virtualenv Python when it has one. This package follows through ``bootstrap``'s finder, alone:
    none of the tool's own folders go on ``PYTHONPATH`` (installed, the folder holding ``runbooks``
    is the tool's whole site-packages, whose SQLAlchemy and pydantic the checkout's code would
    import). Without a virtualenv, this Python's packages fill in, said once on stderr. The server
    is told this process's pid: it dies with it.
    """
    env = dict(os.environ)
    parent = str(os.getpid())
    if lib_dir is None:
        env["PYTHONPATH"] = _path_with([str(IMPORT_ROOT)], env.get("PYTHONPATH", ""))
        return [sys.executable, "-m", SERVER_MODULE, parent], env, None
    from runbooks.code.environment import GalaxyEnv

    checkout = GalaxyEnv.from_checkout(os.path.dirname(lib_dir))
    python = checkout.python
    env[CHECKOUT_ENV] = str(checkout.root)
    env["PYTHONPATH"] = _path_with([lib_dir], _without_tool_folders(env.get("PYTHONPATH", "")))
    if python is None:
        _announce_fill_in(checkout.root)
    argv = [str(python or sys.executable), "-c", bootstrap_source(), str(IMPORT_ROOT), parent]
    return argv, env, str(checkout.root)


def bootstrap_source() -> str:
    from runbooks.galaxy import bootstrap

    # The first line names the server in a process listing (the doctor shows a command line's first 100 characters).
    return f"# {SERVER_MODULE} for a Galaxy checkout\n" + Path(bootstrap.__file__).read_text(encoding="utf-8")


def _path_with(first: list[str], inherited: str) -> str:
    return os.pathsep.join(first + [inherited]).rstrip(os.pathsep)


def _without_tool_folders(inherited: str) -> str:
    """``PYTHONPATH`` minus this tool's own import folders (a kernel the tool started inherits them)."""
    import site
    import sysconfig

    tool = {IMPORT_ROOT, *(Path(p).resolve() for p in site.getsitepackages() + [site.getusersitepackages()])}
    tool |= {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    kept = [p for p in inherited.split(os.pathsep) if p and Path(p).resolve() not in tool]
    return os.pathsep.join(kept)


# galaxy-data too: Galaxy's lib/galaxy/__init__.py extends its path with installed galaxy-* packages
FILL_IN_PACKAGES = ("galaxy-data", "SQLAlchemy", "alembic", "psycopg2-binary", "PyYAML")
_announced: set = set()


def _announce_fill_in(root) -> None:
    """Say once which installed packages a checkout without a virtualenv runs on."""
    if root in _announced:
        return
    _announced.add(root)
    from importlib import metadata

    versions = []
    for name in FILL_IN_PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    sys.stderr.write(
        f"note: {root} has no virtualenv (.venv or $GALAXY_VIRTUAL_ENV): its lib/ runs on {sys.executable}, "
        f"whose installed packages fill in ({', '.join(versions) or 'none'})\n"
    )


def missing_module_refusal(error: ModuleNotFoundError) -> str:
    """The one line for a checkout whose code imports a module its Python does not have."""
    where = os.environ.get(CHECKOUT_ENV) or "the installed galaxy-data package"
    name = error.name or str(error)
    return (
        f"the Galaxy code of {where} needs the module {name!r}, which {sys.executable} does not have: "
        "install Galaxy's requirements into the checkout's virtualenv (.venv or $GALAXY_VIRTUAL_ENV; "
        "Galaxy's scripts/common_startup.sh does), or add the package that provides it"
    )


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
