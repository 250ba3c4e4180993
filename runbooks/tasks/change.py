"""Changing a database safely: plan, pre-flight, rehearse or back up, apply, verify.

The upgrade and downgrade tasks (CLI and notebooks) are this one sequence; each step
returns what it found so the caller can print it and decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runbooks.database.backup import Backup, backups_dir, make_backup
from runbooks.database.backup_set import BackupSet, make_backup_set
from runbooks.database.migration_lock import MigrationLock, acquire
from runbooks.database.sessions import Activity, activity
from runbooks.errors import Refused, UsageError
from runbooks.tasks.failure_explanations import FailureExplanation, explain_failure
from runbooks.tasks.lock_wait import LockPolicy, apply_with_lock_timeout
from runbooks.tasks.migrate import Outcome, Plan, apply, make_plan
from runbooks.tasks.pair_change import apply_pair, refuse_misplaced, split_plan
from runbooks.tasks.pair_status import status_for
from runbooks.tasks.preflight import Preflight, preflight
from runbooks.tasks.printed_commands import DatabaseArgs, command_line
from runbooks.tasks.rehearsal import Proof, Rehearsal, prove_fix, rehearse
from runbooks.tasks.selection import Selection
from runbooks.tasks.status import Status

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
    lock: MigrationLock | None = None
    proof: Proof | None = None  # the way out's statements, tried on a copy (only after a failure)
    server_check: Preflight | None = None  # what the server, the role or the disk lacks (before any write)
    install_lock: MigrationLock | None = None  # a separate install database's own migration lock
    backup_set: BackupSet | None = None  # a separate install database: both backups, one set

    @property
    def install_db(self):
        return self.selection.install.db if self.selection.install is not None else None

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
        return explain_failure(result.errors, self.selection.db.dialect, self.selection.database_args)


def plan_change(selection: Selection, target: str, direction: str) -> Change:
    """Read the database and plan the move; refuse states no migration should touch."""
    before = status_for(selection)
    refuse_misplaced(before, selection.database_args)
    _refuse_unmovable(before, selection.database_args)
    plan = make_plan(selection.graph, before.rows, target, direction, selection.database_args)
    return Change(selection, direction, before, plan)


def _refuse_unmovable(status: Status, database: DatabaseArgs) -> None:
    troubleshoot = f"`{command_line('troubleshoot', database=database)}`"
    if status.state in MOVABLE_STATES:
        if status.state == "legacy-sqlalchemy-migrate" and status.legacy_migrate_version != 180:
            raise Refused(
                f"the database is under SQLAlchemy Migrate at version {status.legacy_migrate_version}, not 180: "
                f"upgrade it to 180 with a release_22.01 Galaxy checkout first ({troubleshoot})"
            )
        return
    hints = {
        "missing": "there is no database at that URL: check it (Galaxy creates a new one on first start)",
        "empty": "the database is empty: Galaxy initializes it on first start (create_db.sh); nothing to migrate",
        "no-version-table": f"the database has no version table (not a Galaxy database?): see {troubleshoot}",
        "unknown-revision": f"the database is at {', '.join(status.unknown)}, unknown to this code: see {troubleshoot}",
        "revision-missing": f"alembic_version has no gxy row: see {troubleshoot} before migrating",
        "invalid-version-rows": "alembic_version holds rows that are not revision ids ("
        + "; ".join(row.describe() for row in status.bad_rows)
        + "): back up the database, then fix them with: "
        + " ".join(row.fix_sql for row in status.bad_rows),
        "damaged": f"the database file is damaged ({status.damage}): see {troubleshoot} before migrating",
    }
    raise Refused(hints[status.state])


def run_preflight(change: Change, backup: bool = True) -> Preflight:
    """Functions, privileges and (``backup``) disk the planned revisions need, read before anything is written."""
    folder = backups_dir() if backup else None
    db, graph = change.selection.db, change.selection.graph
    change.server_check = preflight(db, graph, change.plan.revisions, change.direction, backup_folder=folder)
    return change.server_check


def refuse_gaps(change: Change, ignore: bool = False) -> None:
    """A gap the pre-flight found stops the change before it starts, unless the user says go."""
    check = change.server_check
    if check is None or not check.has_gaps or ignore:
        return
    codes = ", ".join(sorted({item.code for item in check.findings}))
    raise Refused(
        f"the pre-flight found {len(check.findings)} gap(s) ({codes}) that would stop the {change.direction}: "
        "apply the fixes shown, or pass --ignore-preflight to go ahead anyway; nothing was changed"
    )


def take_lock(change: Change) -> None:
    """The migration lock (a second run refuses at once), then the database read again.

    Held until ``apply_change`` ends (or the process does): the Galaxy worker runs meanwhile.
    A database that moved since it was planned (another run finished first) is refused.
    """
    if change.lock is not None:
        return
    change.lock = acquire(change.selection.db, change.direction)
    if change.install_db is not None:
        try:
            change.install_lock = acquire(change.install_db, change.direction)
        except BaseException:
            release_lock(change)
            raise
    now = status_for(change.selection)
    if set(now.rows) != set(change.before.rows):
        release_lock(change)
        raise Refused(
            f"the database moved since it was read (now {', '.join(now.rows) or 'no revision'}; another run?): "
            f"run the {change.direction} again to plan from where it stands; nothing was changed"
        )


def release_lock(change: Change) -> None:
    for held in (change.install_lock, change.lock):
        if held is not None:
            held.release()
    change.lock = change.install_lock = None


def check_sessions(change: Change, ignore_sessions: bool = False) -> Activity:
    """Take the migration lock, name everyone else on the database; refuse if they would block the change."""
    take_lock(change)
    change.activity = activity(change.selection.db)
    if change.install_db is not None:
        other = activity(change.install_db)
        change.activity = Activity(change.activity.sessions + other.sessions, change.activity.sqlite + other.sqlite)
    if change.activity.blockers and not ignore_sessions:
        release_lock(change)
        raise Refused(
            "other sessions would block this change: "
            + "; ".join(change.activity.blockers)
            + ". Stop Galaxy (web, job handlers, schedulers) or pass --ignore-sessions to wait for them"
        )
    return change.activity


def run_rehearsal(change: Change, full: bool = False) -> Rehearsal:
    plan = change.plan
    if change.install_db is not None:  # the galaxy database's part, on its copy (tsi's revision changes no table)
        plan = split_plan(plan, change.selection.graph, joint=False)[0]
    change.rehearsal = rehearse(change.selection.db, plan, change.selection.env, full=full)
    _prove_way_out(change, plan)
    return change.rehearsal


def take_backup(change: Change) -> Backup:
    take_lock(change)
    try:
        if change.install_db is not None:
            change.backup_set = make_backup_set(change.selection.db, change.install_db)
            change.backup = change.backup_set.galaxy
        else:
            change.backup = make_backup(change.selection.db)
    except BaseException:
        release_lock(change)
        raise
    return change.backup


def apply_change(change: Change, lock_policy: LockPolicy | None = None, say=lambda text: None) -> Outcome:
    """Apply the plan; with ``lock_policy`` (PostgreSQL) a lock wait times out and is retried."""
    take_lock(change)
    db, env = change.selection.db, change.selection.env
    try:
        if change.install_db is not None:
            timed = (
                (lambda where, part: apply_with_lock_timeout(where, part, lock_policy, env, say=say))
                if lock_policy
                else None
            )
            change.outcome = apply_pair(db, change.install_db, change.plan, change.selection.graph, env, timed)
        elif lock_policy is None:
            change.outcome = apply(db, change.plan, env=env)
        else:
            change.outcome = apply_with_lock_timeout(db, change.plan, lock_policy, env, say=say)
        _report_lost_lock(change)
        change.after = status_for(change.selection)
    finally:
        release_lock(change)
    if not change.outcome.reached and change.after.state in MOVABLE_STATES and change.install_db is None:
        again = make_plan(change.selection.graph, change.after.rows, change.plan.target.text, change.direction)
        _prove_way_out(change, again)
    return change.outcome


def _report_lost_lock(change: Change) -> None:
    """A lock whose session was ended and taken by another run: that run may have migrated too; never Done."""
    lost = [held.lost for held in (change.lock, change.install_lock) if held is not None and held.lost]
    if lost:
        change.outcome.reached = False
        change.outcome.errors.insert(
            0,
            f"the migration lock was lost while Galaxy ran: {lost[0]}; another migration may have changed the "
            f"database meanwhile: read `{command_line('status', database=change.selection.database_args)}` first",
        )


def _prove_way_out(change: Change, plan: Plan, causes: int = 3) -> None:
    """Statements that drop something are shown only once a copy with them applied reached the target.

    When the copy then stops at another known cause (an old database can have several), its
    statements are added and the copy tried again, so the way out shown is the whole of it.
    """
    explanation, selection = change.explanation, change.selection
    if explanation is None or not explanation.sql or change.succeeded:
        return
    statements = list(explanation.sql)
    for _ in range(causes):
        change.proof = prove_fix(selection.db, plan, statements, selection.env)
        if change.proof.proven or change.proof.rehearsal is None:
            return
        following = explain_failure(change.proof.rehearsal.outcome.errors, selection.db.dialect)
        if following is None or not following.sql or set(following.sql) <= set(statements):
            return
        statements += following.sql


def confirm_or_refuse(change: Change, assume_yes: bool, ask: Callable[[str], bool] | None) -> None:
    """A database the user named is changed only after a yes (``--yes`` in scripts)."""
    if assume_yes or change.selection.is_sample:
        return
    both = f" and its install database {change.install_db}" if change.install_db is not None else ""
    question = (
        f"{change.direction.capitalize()} {change.selection.db}{both} to {change.plan.target.text} "
        f"({len(change.plan.revisions)} revisions)? [y/N] "
    )
    if ask is None:
        raise UsageError(f"{change.selection.db}{both} would be changed: run in a terminal to confirm, or pass --yes")
    if not ask(question):
        raise UsageError("not confirmed: nothing was changed")
