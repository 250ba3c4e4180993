"""Only when the database is behind: the pending upgrade rehearsed on a throwaway copy.

When it fails and a statement would remove the cause (a leftover index, table or column), the
statement is tried on a second copy with the same upgrade after it: it is printed only if that
rehearsal reached the target (advice that drops something is never a guess).
"""

from __future__ import annotations

from dataclasses import dataclass

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor.checks.examination import Examination


@dataclass
class Verdict:
    """What the rehearsal showed: where it stopped (a revision id) and the proof of the fix, if one was tried."""

    rehearsal: object  # runbooks.tasks.rehearsal.Rehearsal
    failed_revision: str | None = None
    proof: object | None = None  # runbooks.tasks.rehearsal.Proof
    fix_from_objects: bool = False  # the proven statements drop objects-already-exist's objects

    @property
    def succeeded(self) -> bool:
        return self.rehearsal.succeeded


def _database_bytes(db: DatabaseUrl) -> int:
    if db.is_sqlite:
        return db.sqlite_path.stat().st_size
    with read_only_cursor(db, "galaxy-runbooks-doctor") as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def _may_rehearse(ex: Examination, rehearse: bool | None, limit: int) -> bool:
    if rehearse is False:
        ex.skip("upgrade-will-fail", "rehearsal turned off", "drop --no-rehearse to rehearse the upgrade")
        return False
    if "multiple-heads" in ex.report.codes:
        ex.skip("upgrade-will-fail", "the code has several heads: no single upgrade target", "merge the heads first")
        return False
    if ex.busy:
        ex.skip(
            "upgrade-will-fail",
            f"copying the database now would wait: {', '.join(ex.busy)}",
            "rerun after the other sessions have ended",
        )
        return False
    size = _database_bytes(ex.db)
    if rehearse is None and size > limit:
        ex.skip(
            "upgrade-will-fail",
            f"the database is {size / 1024**3:.1f} GiB; a rehearsal copies it",
            "add --rehearse to rehearse anyway",
        )
        return False
    return True


def check_rehearsal(ex: Examination, rehearse: bool | None, limit: int, existing=()) -> Verdict | None:
    """Rehearse the upgrade to head; on failure, prove (or not) the statements that would remove the cause."""
    from runbooks.tasks.failure_explanations import explain_failure
    from runbooks.tasks.migrate import make_plan
    from runbooks.tasks.rehearsal import prove_fix
    from runbooks.tasks.rehearsal import rehearse as run_rehearsal

    if not _may_rehearse(ex, rehearse, limit):
        return None
    ex.ran("upgrade-will-fail")
    plan = make_plan(ex.graph, ex.status.rows, "head", "upgrade")
    verdict = Verdict(run_rehearsal(ex.db, plan, ex.env))
    if verdict.succeeded:
        return verdict
    outcome = verdict.rehearsal.outcome
    cause = explain_failure(outcome.errors, ex.db.dialect, ex.database)
    error = outcome.errors[0] if outcome.errors else f"alembic_version ended at {', '.join(outcome.rows)}"
    verdict.failed_revision = _stopped_revision(outcome.stopped_at) or _revision_named_by(error, ex)
    statements = list(cause.sql) if cause and cause.sql else []
    if not statements:
        statements = [obj.drop_statement(ex.db.dialect) for obj in existing if obj.revision == verdict.failed_revision]
        verdict.fix_from_objects = bool(statements)
    if statements and not any(s.lstrip().startswith("--") for s in statements):
        verdict.proof = prove_fix(ex.db, plan, statements, ex.env)
    _report_failure(ex, verdict, cause, error)
    return verdict


def _report_failure(ex: Examination, verdict: Verdict, cause, error: str) -> None:
    outcome = verdict.rehearsal.outcome
    where = outcome.stopped_at or _described(verdict.failed_revision, ex) or "the first revision"
    if set(outcome.rows) == set(ex.status.rows) and not ex.db.is_sqlite:
        where += " (PostgreSQL ran the upgrade in one transaction: nothing was applied)"
    proof = verdict.proof
    fix = cause.fix if cause else "read the error above"
    if proof is not None and proof.proven:
        fix = f"back up, then run: {' '.join(proof.statements)} ({proof.describe()}); then {ex.cli('upgrade')}"
        fix += f"\nor: {cause.fix}" if cause and not cause.sql else ""
    elif proof is not None:
        fix += f"; no statement is given: {proof.describe()}"
    ex.add(
        "upgrade-will-fail",
        f"rehearsing the upgrade to head on a {verdict.rehearsal.copy_method} stopped at {where}: "
        f"{error.splitlines()[0]}" + (f" ({cause.cause})" if cause else ""),
        fix + f"; {ex.cli('upgrade', '--rehearse')} shows every statement",
        {
            "stopped_at": outcome.stopped_at,
            "errors": outcome.errors,
            "reached_rows": list(outcome.rows),
            "cause": cause.cause if cause else None,
            "proof": None
            if proof is None
            else {"statements": list(proof.statements), "proven": proof.proven, "result": proof.describe()},
        },
    )


def _stopped_revision(stopped_at: str | None) -> str | None:
    """``upgrade A -> B`` (or ``upgrade A, C -> B``): B, the revision that was running."""
    if not stopped_at or "->" not in stopped_at:
        return None
    return stopped_at.split("->")[-1].strip().split()[0].rstrip(",") or None


def _described(rid: str | None, ex: Examination) -> str | None:
    return f"{rid} ({ex.graph.revisions[rid].message})" if rid in ex.graph.revisions else None


def _revision_named_by(error: str, ex: Examination) -> str | None:
    """The pending revision whose object the error names (when the log does not say where it stopped)."""
    from runbooks.code.objects import created_objects

    pending = [rid for branch in ex.status.branches.values() for rid in branch.pending]
    for rid in ex.graph.in_order(among=set(pending)):
        for obj in created_objects(ex.graph.revisions[rid]):
            if f'"{obj.name}"' in error or f": {obj.name}" in error or f" {obj.name} " in error:
                return rid
    return None
