"""Rehearsal: run a plan on a throwaway copy, record every statement, drop the copy.

This is the complete SQL preview Galaxy's offline ``--sql`` mode cannot give (it skips
ALTER-type helpers and crashes on data-fix revisions): the statements are the ones the
database really executed, and a failure is the real database error.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbooks.code.environment import GalaxyEnv
from runbooks.database.leftovers import remove_leftovers
from runbooks.database.scratch import run_statements, scratch_database
from runbooks.database.urls import DatabaseUrl
from runbooks.tasks.migrate import Outcome, Plan, apply

READ_ONLY_PREFIXES = ("SELECT", "PRAGMA", "SHOW", "WITH")


@dataclass
class Rehearsal:
    outcome: Outcome
    copy_method: str

    @property
    def succeeded(self) -> bool:
        return self.outcome.reached

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


def rehearse(db: DatabaseUrl, plan: Plan, env: GalaxyEnv | None = None) -> Rehearsal:
    remove_leftovers(db)  # of rehearsals that were killed (their owner pid has ended)
    with scratch_database(copy_of=db) as scratch:
        outcome = apply(scratch.db, plan, record_sql=True, env=env)
    return Rehearsal(outcome, scratch.made_by)


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
