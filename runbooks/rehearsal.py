"""Rehearsal: run a plan on a throwaway copy, record every statement, drop the copy.

This is the complete SQL preview Galaxy's offline ``--sql`` mode cannot give (it skips
ALTER-type helpers and crashes on data-fix revisions): the statements are the ones the
database really executed, and a failure is the real database error.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbooks.code.environment import GalaxyEnv
from runbooks.database.scratch import scratch_database
from runbooks.database.urls import DatabaseUrl
from runbooks.migrate import Outcome, Plan, apply

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
    with scratch_database(copy_of=db) as scratch:
        outcome = apply(scratch.db, plan, record_sql=True, env=env)
    return Rehearsal(outcome, scratch.made_by)
