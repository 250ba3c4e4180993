"""Runs one Galaxy command in this (fresh) process and prints a one-line JSON reply.

Started by ``galaxy_commands``; the database URL arrives in the environment, never in argv.
"""

from __future__ import annotations

import json
import os
import sys

from runbooks.databases import DatabaseUrl, mask_text
from runbooks.galaxy_commands import REPLY_PREFIX, WORKER_URL_ENV, initialize_here, run_dbscript_here


def handle(request: dict, db: DatabaseUrl) -> dict:
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


def main() -> int:
    request = json.loads(sys.argv[1])
    db = DatabaseUrl.parse(os.environ.pop(WORKER_URL_ENV))
    try:
        reply = handle(request, db)
    except Exception as error:  # Galaxy's exception is the answer: its type and exact message
        reply = {"exception": {"type": error.__class__.__name__, "message": mask_text(str(error), db.password)}}
    print(REPLY_PREFIX + json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
