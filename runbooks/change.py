"""Changing a database safely: plan, pre-flight, rehearse or back up, apply, verify.

The upgrade and downgrade tasks (CLI and notebooks) are this one sequence; each step
returns what it found so the caller can print it and decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runbooks.database.backup import Backup, make_backup
from runbooks.database.sessions import Activity, activity
from runbooks.doctor.explanations import FailureExplanation, explain_failure
from runbooks.errors import Refused, UsageError
from runbooks.migrate import Outcome, Plan, apply, make_plan
from runbooks.rehearsal import Proof, Rehearsal, prove_fix, rehearse
from runbooks.selection import Selection
from runbooks.status import Status, get_status

MOVABLE_STATES = ("up-to-date", "behind", "multiple-current", "legacy-sqlalchemy-migrate")


@dataclass
class Change:
    """Everything one upgrade or downgrade found and did, in order."""

    selection: Selection
    direction: str
    before: Status
    plan: Plan
    activity: Activity | None = None
    rehearsal: Rehearsal | None = None
    backup: Backup | None = None
    outcome: Outcome | None = None
    after: Status | None = None
    proof: Proof | None = None  # the way out's statements, tried on a copy (only after a failure)

    @property
    def succeeded(self) -> bool:
        if self.outcome is None:
            return bool(self.rehearsal and self.rehearsal.succeeded)
        return self.outcome.reached

    @property
    def explanation(self) -> FailureExplanation | None:
        """Why the change (or its rehearsal) failed and the way out, when the error is a known one."""
        result = self.outcome or (self.rehearsal.outcome if self.rehearsal else None)
        if result is None or result.reached:
            return None
        return explain_failure(result.errors, self.selection.db.dialect)


def plan_change(selection: Selection, target: str, direction: str) -> Change:
    """Read the database and plan the move; refuse states no migration should touch."""
    before = get_status(selection.db, selection.graph, selection.env)
    _refuse_unmovable(before)
    plan = make_plan(selection.graph, before.rows, target, direction)
    return Change(selection, direction, before, plan)


def _refuse_unmovable(status: Status) -> None:
    if status.state in MOVABLE_STATES:
        if status.state == "legacy-sqlalchemy-migrate" and status.legacy_migrate_version != 180:
            raise Refused(
                f"the database is under SQLAlchemy Migrate at version {status.legacy_migrate_version}, not 180: "
                "upgrade it to 180 with a release_22.01 Galaxy checkout first (`python -m runbooks troubleshoot`)"
            )
        return
    hints = {
        "missing": "there is no database at that URL: check it (Galaxy creates a new one on first start)",
        "empty": "the database is empty: Galaxy initializes it on first start (create_db.sh); nothing to migrate",
        "no-version-table": "the database has no version table (not a Galaxy database?): see `troubleshoot`",
        "unknown-revision": f"the database is at {', '.join(status.unknown)}, unknown to this code: see `troubleshoot`",
        "revision-missing": "alembic_version has no gxy row: see `troubleshoot` before migrating",
    }
    raise Refused(hints[status.state])


def check_sessions(change: Change, ignore_sessions: bool = False) -> Activity:
    """Name everyone else on the database; refuse if they would block the change."""
    change.activity = activity(change.selection.db)
    if change.activity.blockers and not ignore_sessions:
        raise Refused(
            "other sessions would block this change: "
            + "; ".join(change.activity.blockers)
            + ". Stop Galaxy (web, job handlers, schedulers) or pass --ignore-sessions to wait for them"
        )
    return change.activity


def run_rehearsal(change: Change) -> Rehearsal:
    change.rehearsal = rehearse(change.selection.db, change.plan, change.selection.env)
    _prove_way_out(change, change.plan)
    return change.rehearsal


def take_backup(change: Change) -> Backup:
    change.backup = make_backup(change.selection.db)
    return change.backup


def apply_change(change: Change) -> Outcome:
    change.outcome = apply(change.selection.db, change.plan, env=change.selection.env)
    change.after = get_status(change.selection.db, change.selection.graph, change.selection.env)
    if not change.outcome.reached and change.after.state in MOVABLE_STATES:
        again = make_plan(change.selection.graph, change.after.rows, change.plan.target.text, change.direction)
        _prove_way_out(change, again)
    return change.outcome


def _prove_way_out(change: Change, plan: Plan) -> None:
    """Statements that drop something are shown only once a copy with them applied reached the target."""
    explanation = change.explanation
    if explanation is not None and explanation.sql and not change.succeeded:
        change.proof = prove_fix(change.selection.db, plan, explanation.sql, change.selection.env)


def confirm_or_refuse(change: Change, assume_yes: bool, ask: Callable[[str], bool] | None) -> None:
    """A database the user named is changed only after a yes (``--yes`` in scripts)."""
    if assume_yes or change.selection.is_sample:
        return
    question = (
        f"{change.direction.capitalize()} {change.selection.db} to {change.plan.target.text} "
        f"({len(change.plan.revisions)} revisions)? [y/N] "
    )
    if ask is None:
        raise UsageError(f"{change.selection.db} would be changed: run in a terminal to confirm, or pass --yes")
    if not ask(question):
        raise UsageError("not confirmed: nothing was changed")
