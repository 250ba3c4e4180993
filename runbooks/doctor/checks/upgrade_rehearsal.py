"""Only when the database is behind: the pending upgrade rehearsed on a throwaway copy."""

from __future__ import annotations

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor.checks.examination import Examination
from runbooks.paths import CLI


def _database_bytes(db: DatabaseUrl) -> int:
    if db.is_sqlite:
        return db.sqlite_path.stat().st_size
    with read_only_cursor(db, "galaxy-runbooks-doctor") as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def check_rehearsal(ex: Examination, rehearse: bool | None, limit: int) -> None:
    from runbooks.doctor.explanations import explain_failure
    from runbooks.migrate import make_plan
    from runbooks.rehearsal import rehearse as run_rehearsal

    if rehearse is False:
        ex.skip("upgrade-will-fail", "rehearsal turned off", "drop --no-rehearse to rehearse the upgrade")
        return
    if "multiple-heads" in ex.report.codes:
        ex.skip("upgrade-will-fail", "the code has several heads: no single upgrade target", "merge the heads first")
        return
    if ex.busy:
        ex.skip(
            "upgrade-will-fail",
            f"copying the database now would wait: {', '.join(ex.busy)}",
            "rerun after the other sessions have ended",
        )
        return
    size = _database_bytes(ex.db)
    if rehearse is None and size > limit:
        ex.skip(
            "upgrade-will-fail",
            f"the database is {size / 1024**3:.1f} GiB; a rehearsal copies it",
            "add --rehearse to rehearse anyway",
        )
        return
    ex.ran("upgrade-will-fail")
    plan = make_plan(ex.graph, ex.status.rows, "head", "upgrade")
    rehearsal = run_rehearsal(ex.db, plan, ex.env)
    if rehearsal.succeeded:
        return
    outcome = rehearsal.outcome
    error = outcome.errors[0] if outcome.errors else f"alembic_version ended at {', '.join(outcome.rows)}"
    cause = explain_failure(outcome.errors, ex.db.dialect)
    where = outcome.stopped_at or _revision_named_by(error, ex) or "the first revision"
    if set(outcome.rows) == set(ex.status.rows) and not ex.db.is_sqlite:
        where += " (PostgreSQL ran the upgrade in one transaction: nothing was applied)"
    ex.add(
        "upgrade-will-fail",
        f"rehearsing the upgrade to head on a {rehearsal.copy_method} stopped at {where}: "
        f"{error.splitlines()[0]}" + (f" ({cause.cause})" if cause else ""),
        (cause.fix if cause else f"read the error above; `{CLI} upgrade --rehearse` shows every statement")
        + f"; then `{CLI} upgrade --rehearse` again",
        {
            "stopped_at": outcome.stopped_at,
            "errors": outcome.errors,
            "reached_rows": list(outcome.rows),
            "cause": cause.cause if cause else None,
        },
    )


def _revision_named_by(error: str, ex: Examination) -> str | None:
    """The pending revision whose object the error names (when the log does not say where it stopped)."""
    from runbooks.code.objects import created_objects

    pending = [rid for branch in ex.status.branches.values() for rid in branch.pending]
    for rid in ex.graph.in_order(among=set(pending)):
        for obj in created_objects(ex.graph.revisions[rid]):
            if f'"{obj.name}"' in error or f": {obj.name}" in error or f" {obj.name} " in error:
                return f"{rid} ({ex.graph.revisions[rid].message})"
    return None
