"""The doctor's checks, one module per concern; each check appends findings to the examination's report.

The order and the "only when" rules are the cost design described in ``runbooks.doctor.diagnosis``.
Every module here imports ``examination`` (and through it the report and the catalogue); nothing
they import imports them back.
"""

from __future__ import annotations

from runbooks.database.connections import inspect_database
from runbooks.doctor.checks.examination import Examination
from runbooks.doctor.checks.leftovers import check_leftovers
from runbooks.doctor.checks.objects_and_orphans import (
    check_leftover_batch_tables,
    check_orphans,
    find_existing_objects,
    report_existing_objects,
)
from runbooks.doctor.checks.schema_drift import check_drift
from runbooks.doctor.checks.server_preflight import check_server
from runbooks.doctor.checks.sessions_and_locks import check_readable, check_sessions_and_locks
from runbooks.doctor.checks.upgrade_rehearsal import check_rehearsal
from runbooks.doctor.checks.version_table import check_existence, check_heads, check_version_table
from runbooks.doctor.checks.views import check_views
from runbooks.tasks.status import get_status

__all__ = ["Examination", "run_all"]


def run_all(ex: Examination, *, rehearse, drift, every_foreign_key, rehearsal_limit_bytes) -> None:
    check_heads(ex)
    check_leftovers(ex)
    if not check_readable(ex):  # SQLite: locked by a writer, or a hot journal; nothing more can be read
        return
    ex.snapshot = inspect_database(ex.db)
    if not check_existence(ex):
        if ex.snapshot.exists:  # an empty database: who else is on it still matters
            check_sessions_and_locks(ex)
        return
    ex.status = get_status(ex.db, ex.graph, ex.env, ex.snapshot, only=ex.only)
    check_version_table(ex)
    check_sessions_and_locks(ex)
    check_orphans(ex, every_foreign_key)
    check_leftover_batch_tables(ex)
    if ex.status.state in ("up-to-date", "behind"):
        check_views(ex)
    if ex.status.state == "behind" and "gxy" in ex.only:  # tsi's one revision changes no table
        check_server(ex)
        existing = find_existing_objects(ex)
        verdict = check_rehearsal(ex, rehearse, rehearsal_limit_bytes, existing)
        report_existing_objects(ex, existing, verdict)
    elif rehearse:
        ex.skip("upgrade-will-fail", f"nothing to rehearse: the database is {ex.status.state}", "")
    check_drift(ex, drift)
