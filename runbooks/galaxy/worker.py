"""The Galaxy worker server: imports galaxy.model once, runs each request in a forked child.

Started by ``runbooks.galaxy.client``. A child runs exactly one Galaxy command with a
clean copy of the imported modules, so no state leaks from one command to the next.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback

from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.galaxy.client import REPLY_PREFIX
from runbooks.galaxy.commands import initialize_here, quiet_galaxy_logging, run_dbscript_here


def verdict_here(db: DatabaseUrl) -> str:
    """What Galaxy says about a database: manage_db.sh's pre-check, then its startup check."""
    from galaxy.model.migrations import DatabaseConfig, verify_databases_via_script
    from galaxy.model.migrations.scripts import verify_database_is_initialized

    try:
        verify_database_is_initialized(db.secret())
        config = DatabaseConfig(db.secret(), None, None)
        verify_databases_via_script(config, config, False)  # no auto-migrate
    except Exception as error:  # the answer is Galaxy's exception: type and exact text
        return mask_text(f"{error.__class__.__name__}: {error}", db.password)
    return "OK"


def handle(request: dict, db: DatabaseUrl) -> dict:
    if request["command"] == "verdict":
        logging.disable(logging.CRITICAL)
        return {"verdict": verdict_here(db)}
    if request["command"] == "initialize":
        initialize_here(db)
        return {"stdout": "", "migration_log": [], "errors": [], "statements": []}
    output = run_dbscript_here(db, request["command"], request.get("record_sql", False), **request["arguments"])
    return {
        "stdout": output.stdout,
        "migration_log": output.migration_log,
        "errors": output.errors,
        "statements": output.statements,
    }


def _child(message: dict, write_fd: int) -> None:
    os.dup2(2, 1)  # whatever Galaxy prints must not mix with the replies
    db = DatabaseUrl.parse(message["url"])
    if message.get("alembic_config"):
        os.environ["ALEMBIC_CONFIG"] = message["alembic_config"]
    else:
        os.environ.pop("ALEMBIC_CONFIG", None)
    try:
        reply = handle(message["request"], db)
    except Exception as error:  # Galaxy's exception is the answer: its type and exact message
        reply = {"exception": {"type": error.__class__.__name__, "message": mask_text(str(error), db.password)}}
        partial = getattr(error, "partial_output", None)
        if partial is not None:
            reply["exception"]["partial"] = {"migration_log": partial.migration_log, "errors": partial.errors}
    with os.fdopen(write_fd, "w") as pipe:
        pipe.write(json.dumps(reply))


def _run_in_child(message: dict) -> dict:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _child(message, write_fd)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return {"crashed": f"wait status {status}"}
    return json.loads(data)


def serve() -> int:
    import galaxy.model.migrations.dbscript  # noqa: F401  (the import every child shares)

    quiet_galaxy_logging()
    for line in sys.stdin:
        if line.strip():
            reply = _run_in_child(json.loads(line))
            sys.stdout.write(REPLY_PREFIX + json.dumps(reply) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
