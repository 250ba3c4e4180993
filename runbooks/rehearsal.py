"""Rehearsal: run a plan on a throwaway copy, record every statement, drop the copy.

This is the complete SQL preview Galaxy's offline ``--sql`` mode cannot give (it skips
ALTER-type helpers and crashes on data-fix revisions): the statements are the ones the
database really executed, and a failure is the real database error.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.database.backup import copy_sqlite, make_backup, recreate_postgresql_database, restore
from runbooks.database.connections import drop_postgresql_database
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


@contextmanager
def scratch_copy(db: DatabaseUrl) -> Iterator[tuple[DatabaseUrl, str]]:
    """A copy of ``db`` that disappears afterwards, and how it was made."""
    if db.is_sqlite:
        with tempfile.TemporaryDirectory(prefix="runbooks-rehearsal-") as folder:
            path = Path(folder) / db.sqlite_path.name
            copy_sqlite(db.sqlite_path, path)
            yield DatabaseUrl.parse(f"sqlite:///{path}"), "copy of the SQLite file"
        return
    scratch = db.with_database(f"{db.database_name[:40]}_rehearsal_{uuid.uuid4().hex[:8]}")
    method = _copy_postgresql(db, scratch)
    try:
        yield scratch, method
    finally:
        drop_postgresql_database(scratch)


def _copy_postgresql(db: DatabaseUrl, scratch: DatabaseUrl) -> str:
    try:
        recreate_postgresql_database(scratch, template=db.database_name)
        return "PostgreSQL copy (CREATE DATABASE ... TEMPLATE)"
    except Exception:
        # TEMPLATE needs the source to have no other sessions: fall back to dump and restore.
        with tempfile.TemporaryDirectory(prefix="runbooks-rehearsal-") as folder:
            dump = make_backup(db, Path(folder))
            restore(dump.path, scratch)
        return "PostgreSQL copy (pg_dump / pg_restore)"


def rehearse(db: DatabaseUrl, plan: Plan, env: GalaxyEnv | None = None) -> Rehearsal:
    with scratch_copy(db) as (copy, method):
        outcome = apply(copy, plan, record_sql=True, env=env)
    return Rehearsal(outcome, method)
