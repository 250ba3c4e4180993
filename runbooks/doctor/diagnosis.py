"""The doctor: every known migration problem, diagnosed on the user's own database.

``diagnose(db, graph, env)`` runs the checks of ``runbooks.doctor.checks`` and returns a ``Report``
of ``DoctorFinding``s: ``{code, severity, summary, fix, details}``, one stable code per problem
(``catalogue()`` lists them all with their meaning and usual fix). The summary names the
objects involved (revision ids, tables, pids, row counts); the fix is a command to run.

Cost, by design (the budget: a healthy database within 1.5x Galaxy's own ``dbversion``):
- always, without importing ``galaxy.model``: the version table against the revision files
  (parsed, not imported), the code's heads, sessions and locks, foreign-key orphans (one
  indexed anti-join per key), the objects pending revisions would create (read with ``ast``);
- only when the database is behind: a rehearsal of the pending upgrade on a throwaway copy
  (Galaxy's own code in a fresh process), skipped above ``rehearsal_limit_bytes`` unless asked;
- only when asked (``drift=True``, ``troubleshoot --drift``): the schema against both models,
  which imports Galaxy's model (about as long as ``dbversion`` itself).
"""

from __future__ import annotations

import time

from runbooks.code.environment import BRANCHES, GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor import checks
from runbooks.findings.catalogue import BY_CODE, CODES, SEVERITIES
from runbooks.findings.report import Report, finding
from runbooks.tasks.printed_commands import DatabaseArgs

REHEARSAL_LIMIT_BYTES = 2 * 1024**3
ELSEWHERE = "database-configured-elsewhere"


def diagnose(
    db: DatabaseUrl,
    graph: RevisionGraph,
    env: GalaxyEnv | None = None,
    *,
    rehearse: bool | None = None,
    drift: bool = False,
    every_foreign_key: bool = False,
    rehearsal_limit_bytes: int = REHEARSAL_LIMIT_BYTES,
    database: DatabaseArgs | None = None,
    elsewhere: list[str] = (),
    only: tuple[str, ...] = BRANCHES,
) -> Report:
    """Run every check that applies; ``rehearse``: None = when behind and small enough, True/False = force.

    ``database``: how the fixes' commands name the database (a selection's ``database_args``; default ``--db``).
    ``elsewhere``: the selection's warnings (another database named where it did not look), as findings.
    """
    started = time.monotonic()
    env = env or GalaxyEnv.from_package()
    report = Report(db, env.describe())
    examination = checks.Examination(db, graph, env, report, database=database, only=only)
    report.note = database.note() if database else ""
    checks.run_all(
        examination,
        rehearse=rehearse,
        drift=drift,
        every_foreign_key=every_foreign_key,
        rehearsal_limit_bytes=rehearsal_limit_bytes,
    )
    for warning in elsewhere:
        report.findings.append(finding("database-configured-elsewhere", warning, BY_CODE[ELSEWHERE].fix))
    order = {code.code: index for index, code in enumerate(CODES)}
    report.findings.sort(key=lambda f: (SEVERITIES.index(f.severity), order[f.code]))
    report.seconds = time.monotonic() - started
    return report
