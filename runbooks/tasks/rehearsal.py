"""Rehearsal: run a plan on a throwaway copy, record every statement, drop the copy.

On PostgreSQL the copy holds the schema of everything and the rows of the tables the pending
revisions touch only, with the data preconditions on the other tables checked read-only on the
live database (``runbooks.tasks.rehearsal_scope``); ``full=True`` (``--rehearse=full``) copies it
all, as does a plan whose SQL cannot be read. SQLite: always the whole file (see ``SQLITE_WHY``).

This is the complete SQL preview Galaxy's offline ``--sql`` mode cannot give (it skips
ALTER-type helpers and crashes on data-fix revisions): the statements are the ones the
database really executed, and a failure is the real database error.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.leftovers import remove_leftovers
from runbooks.database.partial_copy import SCOPED_COPY
from runbooks.database.scratch import run_statements, scratch_database
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError
from runbooks.tasks.migrate import Outcome, Plan, apply
from runbooks.tasks.rehearsal_scope import Scope, scoped_attempt

READ_ONLY_PREFIXES = ("SELECT", "PRAGMA", "SHOW", "WITH")
# SQLite's ALTERs go through Alembic's batch mode, which copies every row of the altered table into
# a new one: the rows of every altered table are needed anyway, and a Galaxy on SQLite is a small
# single-server database whose file copy (the backup API) takes seconds (0.1 s for 20k jobs).
SQLITE_WHY = "SQLite: the whole file is copied (batch ALTERs copy each altered table's rows anyway)"


@dataclass
class Rehearsal:
    outcome: Outcome
    copy_method: str
    scope: Scope | None = None
    scoped_found: list | None = None  # preconditions a scoped rehearsal saw fail, before a full copy confirmed them

    @property
    def succeeded(self) -> bool:
        return self.outcome.reached and (self.scope is None or self.scope.holds)

    @property
    def changes(self) -> list[str]:
        """Statements that change something (reads left out), in execution order."""
        return [s for s in self.outcome.statements if not s.lstrip("( ").upper().startswith(READ_ONLY_PREFIXES)]

    def summary(self) -> str:
        if self.succeeded:
            return f"Rehearsal passed on a {self.copy_method}: {len(self.changes)} changing statements ran."
        where = self.outcome.stopped_at or "before the first revision"
        error = self.outcome.errors[0] if self.outcome.errors else "the version table did not reach the target"
        return f"Rehearsal FAILED on a {self.copy_method} at {where}:\n{error}"


def rehearse(db: DatabaseUrl, plan: Plan, env: GalaxyEnv | None = None, full: bool = False) -> Rehearsal:
    """Run ``plan`` on a copy; PostgreSQL: a scoped copy unless ``full`` (see the module's docstring)."""
    remove_leftovers(db)  # of rehearsals that were killed (their owner pid has ended)
    if db.is_sqlite:
        size = db.sqlite_path.stat().st_size if db.sqlite_path.exists() else 0
        return _full(db, plan, env, Scope("full", f"{SQLITE_WHY}; {size / 1024**2:.1f} MB"))
    if full:
        return _full(db, plan, env, Scope("full", "asked for (--rehearse=full)"))
    import psycopg2

    graph = RevisionGraph.load(env or GalaxyEnv.from_package())
    try:
        attempt = scoped_attempt(db, plan, graph, lambda scratch: apply(scratch, plan, record_sql=True, env=env))
    except (RunbookError, psycopg2.Error) as error:  # a role that cannot disable triggers, a lock timeout, ...
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return _full(db, plan, env, Scope("full", f"a scoped copy could not be made: {reason}"))
    if attempt.full_because:
        return _full(db, plan, env, Scope("full", attempt.full_because))
    scoped = Rehearsal(attempt.outcome, SCOPED_COPY, attempt.scope)
    failing = [p for p in attempt.scope.preconditions if not p.holds]
    if failing or (not scoped.outcome.reached and any("ForeignKeyViolation" in e for e in scoped.outcome.errors)):
        why = "a precondition fails on the live rows" if failing else "a foreign key failed on the partial copy"
        confirmed = _full(db, plan, env, Scope("full", f"{why}: confirmed on a full copy"))
        confirmed.scoped_found = failing
        return confirmed
    return scoped


def _full(db: DatabaseUrl, plan: Plan, env: GalaxyEnv | None, scope: Scope) -> Rehearsal:
    with scratch_database(copy_of=db) as scratch:
        outcome = apply(scratch.db, plan, record_sql=True, env=env)
    return Rehearsal(outcome, scratch.made_by, scope)


@dataclass
class Proof:
    """A fix tried on a copy: its statements ran, then the same plan; ``proven`` when it reached the target."""

    statements: tuple[str, ...]
    rehearsal: Rehearsal | None  # None when a statement itself failed on the copy
    error: str = ""

    @property
    def proven(self) -> bool:
        return self.rehearsal is not None and self.rehearsal.succeeded

    def describe(self) -> str:
        if self.proven:
            return f"a rehearsal on a {self.rehearsal.copy_method} with them applied reached the target"
        if self.rehearsal is None:
            return f"on a copy, the statements themselves failed: {self.error}"
        outcome = self.rehearsal.outcome
        error = outcome.errors[0].splitlines()[0] if outcome.errors else "the version table fell short"
        return f"a rehearsal with them applied still stopped at {outcome.stopped_at or 'the first revision'}: {error}"


def prove_fix(db: DatabaseUrl, plan: Plan, statements, env: GalaxyEnv | None = None) -> Proof:
    """Copy ``db``, run the fix's ``statements`` on the copy, then the plan: does it reach the target now?"""
    statements = tuple(statements)
    with scratch_database(copy_of=db) as scratch:
        try:
            run_statements(scratch.db, statements)
        except Exception as error:  # noqa: BLE001 - the fix does not even apply: not proven, say why
            return Proof(statements, None, str(error).splitlines()[0] if str(error) else type(error).__name__)
        outcome = apply(scratch.db, plan, env=env)
    return Proof(statements, Rehearsal(outcome, scratch.made_by))
