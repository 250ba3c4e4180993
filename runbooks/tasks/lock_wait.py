"""``--lock-timeout``: a migration that cannot get its lock gives up instead of queueing.

An ``ALTER TABLE`` waiting for a lock makes every later query on that table wait behind it
(PostgreSQL's lock queue), so one forgotten transaction stalls Galaxy's web handlers for as
long as the migration waits. With a lock timeout the migrating session waits at most that
long (``SET lock_timeout`` through ``PGOPTIONS`` in Galaxy's child process, so every
statement of the migration has it), the revision's transaction is rolled back, queued
readers go on, and after a pause the change is tried again from where the database stands.

Galaxy's ``env.py`` runs one ``DbScript`` call in one transaction and swallows the
``LockNotAvailable`` error (a commit of the aborted transaction is a rollback), so the
upgrade is applied one revision per call here: a timeout loses only the current revision,
the ones before it stay committed, and the retry starts at the one that timed out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from runbooks.database.sessions import postgresql_sessions
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import UsageError
from runbooks.tasks.migrate import GalaxyCall, Outcome, Plan, apply

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, None: 1.0}
_TIMEOUT_MARKS = ("LockNotAvailable", "lock timeout")
_TABLE_OF_STATEMENT = re.compile(
    r'(?:ALTER TABLE|DROP TABLE|UPDATE|REFERENCES|LOCK TABLE|INSERT INTO|DELETE FROM|\bON)\s+(?:ONLY\s+)?"?(\w+)"?',
    re.IGNORECASE,
)
MAX_WAIT_SECONDS = 60.0


def parse_duration(text: str) -> float:
    """``"5s"``, ``"500ms"``, ``"2min"`` or plain seconds, as seconds; a one-line UsageError otherwise."""
    match = _DURATION.match(text or "")
    seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "").lower() or None] if match else 0.0
    if seconds < 0.001:
        raise UsageError(f"--lock-timeout {text!r} is not a duration: give e.g. 5s, 500ms or 2min")
    return seconds


@dataclass(frozen=True)
class LockPolicy:
    """How long a statement may wait for a lock, and how often a timed-out change is tried again."""

    timeout_s: float
    retries: int = 3

    @property
    def setting(self) -> str:
        """The value of PostgreSQL's ``lock_timeout``."""
        return f"{max(1, round(self.timeout_s * 1000))}ms"

    @property
    def wait_s(self) -> float:
        """The pause between tries: long enough for the queued queries to drain and run."""
        return min(MAX_WAIT_SECONDS, max(1.0, 2 * self.timeout_s))

    def describe(self) -> str:
        return f"lock timeout {self.setting}, {self.retries} retr{'y' if self.retries == 1 else 'ies'}"


def policy_from_args(lock_timeout: str | None, retries: int | None, db: DatabaseUrl) -> LockPolicy | None:
    """The policy the options ask for; refused (one line) on SQLite or without a timeout."""
    if lock_timeout is None:
        if retries is not None:
            raise UsageError("--retries needs --lock-timeout DURATION (it retries a change that timed out)")
        return None
    if db.is_sqlite:
        raise UsageError("--lock-timeout is for PostgreSQL: SQLite has no lock queue (a writer waits, then fails)")
    if retries is not None and retries < 0:
        raise UsageError(f"--retries {retries}: give 0 or more")
    return LockPolicy(parse_duration(lock_timeout), 3 if retries is None else retries)


def timed_out(errors: list[str]) -> bool:
    return any(mark in error for error in errors for mark in _TIMEOUT_MARKS)


def stepped(plan: Plan) -> Plan:
    """An upgrade as one Galaxy call per revision, so each revision commits on its own."""
    if plan.direction != "upgrade":
        return plan
    calls = [GalaxyCall("upgrade", rid, f"one revision: {rid}") for rid in plan.revisions]
    return replace(plan, calls=calls)


@dataclass
class LockAttempt:
    """One try that timed out: the statement that waited and who held its table."""

    statement: str
    holders: list[str] = field(default_factory=list)

    def describe(self) -> str:
        held = "; ".join(self.holders) or "no session holds it any more"
        return f"{self.statement[:120]} — lock held by: {held}"


def _statement(errors: list[str]) -> str:
    for error in errors:
        if "while running:" in error:
            return " ".join(error.split("while running:", 1)[1].split())
    return ""


def lock_holders(db: DatabaseUrl, statement: str) -> list[str]:
    """Sessions holding a lock on the statement's table (all lock-holding sessions if it names none)."""
    match = _TABLE_OF_STATEMENT.search(statement)
    table = match.group(1) if match else None
    holders = [s for s in postgresql_sessions(db) if s.would_block_migration and not s.blocked_by]
    if table:
        holders = [s for s in holders if table in s.relation_locks] or holders
    return [s.describe() for s in holders]


def apply_with_lock_timeout(
    db: DatabaseUrl,
    plan: Plan,
    policy: LockPolicy,
    env=None,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = lambda text: None,
) -> Outcome:
    """Apply ``plan`` with ``policy``: each timeout rolls back one call, waits, and tries again from there."""
    plan = stepped(plan)
    calls, attempts = list(plan.calls), []
    while True:
        outcome = apply(db, replace(plan, calls=calls), env=env, lock_timeout=policy.setting)
        if outcome.reached or not timed_out(outcome.errors):
            break
        statement = _statement(outcome.errors)
        attempts.append(LockAttempt(statement, lock_holders(db, statement)))
        say(f"lock timeout ({policy.setting}) on try {len(attempts)}: {attempts[-1].describe()}")
        if len(attempts) > policy.retries:
            break
        calls = calls[calls.index(outcome.failed_call) :]
        say(f"  read back: {', '.join(outcome.rows)}; trying again in {policy.wait_s:.0f}s")
        sleep(policy.wait_s)
    outcome.lock_attempts = attempts
    return outcome
