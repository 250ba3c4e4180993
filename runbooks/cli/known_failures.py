"""Failures the server's settings cause, not the tool: one line that says what to change, never "internal error".

A role or database with its own ``statement_timeout`` cancels the tool's statements; a role without
``CREATEDB`` cannot make the scratch database a rehearsal or a restore needs. Each is named with what to do.
"""

from __future__ import annotations

from runbooks.database.urls import mask_text


def explain(error: BaseException) -> str | None:
    """The line for a failure the user can act on; None for anything else (a bug of ours)."""
    return _postgresql(error)


def _postgresql(error: BaseException) -> str | None:
    try:
        from psycopg2 import errors
    except ImportError:
        return None
    first = mask_text(str(error)).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, errors.QueryCanceled) and "statement timeout" in first:
        return (
            f"PostgreSQL cancelled one of this tool's statements ({first}): the role or the database sets "
            "statement_timeout; run as a role without it, or lift it for this role "
            "(ALTER ROLE name SET statement_timeout = 0)"
        )
    if isinstance(error, errors.InsufficientPrivilege):
        creating = "create database" in first
        need = " (a rehearsal and a restore make a scratch database: grant CREATEDB)" if creating else ""
        return f"the PostgreSQL role may not do what this needs: {first}{need}"
    return None
