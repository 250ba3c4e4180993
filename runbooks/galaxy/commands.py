"""The parent's side: Galaxy's own commands, each in a fresh child of the Galaxy worker.

Each call sends one request through ``runbooks.galaxy.client`` (the protocol:
``runbooks.galaxy.protocol``) and turns the reply into a value or an error. What runs in
the child is ``runbooks.galaxy.child``. Galaxy's model and revision modules keep state
between runs in one process, so no two commands share one; the children are forked from a
server that has imported galaxy.model once, so a command costs what it does, not a
4-second import each time.
"""

from __future__ import annotations

from runbooks import progress
from runbooks.code.environment import GalaxyEnv
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import GalaxyCommandFailed, RunbookError, UsageError
from runbooks.galaxy.client import ask
from runbooks.galaxy.drift_report import DriftReport, drift_report
from runbooks.galaxy.protocol import CommandOutput

__all__ = ["CommandOutput", "GalaxyCommandFailed", "initialize", "model_drift", "run_dbscript", "verdict", "warm_up"]


def _lib_dir(env: GalaxyEnv | None) -> str | None:
    return str(env.lib_dir) if env is not None and env.root is not None else None


def warm_up(env: GalaxyEnv | None = None) -> None:
    """Start the Galaxy worker for ``env``'s code in the background (its import overlaps the caller's work)."""
    from runbooks.galaxy.client import start

    start(_lib_dir(env))


def _ask(
    request: dict, db: DatabaseUrl, env: GalaxyEnv | None, timeout: float | None = None, what: str = "", progress=None
) -> dict:
    """The reply of one request run with ``env``'s code; Galaxy's exception as GalaxyCommandFailed."""
    what = what or f"Galaxy's {request['command']}"
    alembic_config = None
    if env is not None and env.root is None and env != GalaxyEnv.from_package():
        alembic_config = str(env.alembic_ini)  # a workspace copy of the environment
    lib_dir = _lib_dir(env)
    if db.is_sqlite:  # the server may run in a checkout's root: a relative path stays the user's
        db = db.with_database(str(db.sqlite_path))
    install = request.get("install_url")
    if install and DatabaseUrl.parse(install).is_sqlite:
        request = request | {"install_url": f"sqlite:///{DatabaseUrl.parse(install).sqlite_path}"}
    reply = ask(request, db, lib_dir=lib_dir, alembic_config=alembic_config, timeout=timeout, progress=progress)
    if "refused" in reply:
        raise UsageError(reply["refused"])
    if "crashed" in reply:
        raise RunbookError(f"{what} died ({reply['crashed']}): {reply['log']}")
    if "timed_out" in reply:
        raise RunbookError(f"{what} did not finish within {reply['timed_out']:.0f}s")
    if "exception" in reply:
        failure = reply["exception"]
        raise GalaxyCommandFailed(failure["type"], failure["message"], failure.get("partial"))
    return reply


def run_dbscript(
    db: DatabaseUrl,
    command: str,
    record_sql: bool = False,
    env: GalaxyEnv | None = None,
    lock_timeout: str | None = None,
    install_db: DatabaseUrl | None = None,
    **arguments,
) -> CommandOutput:
    """Run one DbScript subcommand (``upgrade``, ``downgrade``, ``dbversion``, ...) in a fresh process.

    Alembic's CommandError comes back as GalaxyCommandFailed (``manage_db.sh`` prints
    ``FAILED: ...`` for it); database errors do not raise, because Galaxy's env swallows
    them: they are in ``errors``. ``lock_timeout`` (PostgreSQL): the session's ``lock_timeout``.
    """
    request = {"command": command, "record_sql": record_sql, "arguments": arguments}
    if install_db is not None:  # Galaxy's install_database_connection: where DbScript sends tsi
        request["install_url"] = install_db.secret()
    if lock_timeout:
        request["lock_timeout"] = lock_timeout
    return CommandOutput.from_reply(_ask(request, db, env, progress=progress.reporter()))


def initialize(db: DatabaseUrl, env: GalaxyEnv | None = None, install_db: DatabaseUrl | None = None) -> None:
    """Galaxy's own first-start path (``verify_databases_via_script``), in a fresh process; with
    ``install_db``, the tool shed install model goes there (Galaxy's ``install_database_connection``)."""
    _ask({"command": "initialize"} | _install(install_db), db, env)


def _install(install_db: DatabaseUrl | None) -> dict:
    return {"install_url": install_db.secret()} if install_db is not None else {}


def verdict(db: DatabaseUrl, env: GalaxyEnv | None = None, install_db: DatabaseUrl | None = None) -> str:
    """Galaxy's own word on a database, changing nothing: "OK" or "ExceptionType: exact message".

    ``manage_db.sh``'s pre-check (missing or empty database) runs first, so Galaxy's startup
    check never gets to create or initialize anything.
    """
    return _ask({"command": "verdict"} | _install(install_db), db, env)["verdict"]


def model_drift(db: DatabaseUrl, env: GalaxyEnv | None = None, timeout: float | None = 300) -> DriftReport:
    """Compare ``db`` with Galaxy's model (of ``env``: a checkout's, else the installed one).

    Runs ``alembic.autogenerate.compare_metadata`` in a fresh process; reads, never changes.
    """
    return drift_report(db, model_differences(db, env, timeout))


def model_differences(db: DatabaseUrl, env: GalaxyEnv | None = None, timeout: float | None = 300) -> list[dict]:
    """Alembic's raw differences between ``db`` and Galaxy's models, as the worker child found them."""
    try:
        reply = _ask({"command": "drift"}, db, env, timeout, what="the model comparison")
    except GalaxyCommandFailed as failure:
        raise RunbookError(f"the model comparison failed: {str(failure).splitlines()[0]}") from None
    return reply["differences"]
