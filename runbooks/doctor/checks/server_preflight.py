"""The pre-flight (``runbooks.tasks.preflight``) as doctor findings: what the pending upgrade needs that is missing."""

from __future__ import annotations

from runbooks.database.backup import backups_dir
from runbooks.doctor.checks.examination import Examination
from runbooks.tasks.preflight import preflight


def check_server(ex: Examination) -> None:
    """Functions and privileges (PostgreSQL) and room for the backup, for the revisions pending."""
    pending = [rid for branch in ex.status.branches.values() for rid in branch.pending]
    if not pending:
        return
    ex.ran("server-preflight")
    check = preflight(ex.db, ex.graph, ex.graph.in_order(among=set(pending)), backup_folder=backups_dir())
    for item in check.findings:
        item.fix += f"; then {ex.cli('upgrade')}"
    ex.report.findings += check.findings
