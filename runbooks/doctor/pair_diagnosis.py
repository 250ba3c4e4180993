"""The doctor over a galaxy database and its separate tool shed install database, each on its own branch.

Each database gets every check, judged on the branch it holds (the galaxy database on gxy, the
install database on tsi); the report is one, its install-database findings named as such. Two
findings belong to the pair: a version row in the other branch's database
(``branch-in-wrong-database``) and the install model's tables left in the galaxy database
(``install-tables-in-galaxy-database``).
"""

from __future__ import annotations

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor.diagnosis import diagnose
from runbooks.findings.catalogue import BY_CODE, CODES, SEVERITIES
from runbooks.findings.report import Report, finding
from runbooks.tasks.pair_status import PairFacts, pair_status
from runbooks.tasks.printed_commands import DatabaseArgs

PER_CODE = ("multiple-heads",)  # about the code, not a database: reported once


def diagnose_pair(
    db: DatabaseUrl,
    install_db: DatabaseUrl,
    graph: RevisionGraph,
    env: GalaxyEnv,
    *,
    database: DatabaseArgs | None = None,
    **options,
) -> Report:
    """One report: the galaxy database on gxy, the install database on tsi, and what is in the wrong one."""
    report = diagnose(db, graph, env, database=database, only=("gxy",), **options)
    report.install_database = install_db
    options = options | {"rehearse": False, "drift": False, "elsewhere": ()}
    install = diagnose(install_db, graph, env, database=database, only=("tsi",), **options)
    for found in install.findings:
        if found.code in PER_CODE and report.get(found.code):
            continue
        found.summary = f"install database {install_db}: {found.summary}"
        found.details = dict(found.details or {}) | {"database": "install"}
        report.findings.append(found)
    report.checks += [f"install database: {check}" for check in install.checks]
    report.seconds += install.seconds
    pair = pair_status(db, install_db, graph, env).pair
    report.findings += _pair_findings(pair)
    order = {code.code: index for index, code in enumerate(CODES)}
    report.findings.sort(key=lambda f: (SEVERITIES.index(f.severity), order[f.code]))
    return report


def _pair_findings(pair: PairFacts) -> list:
    found = []
    if pair.misplaced:
        found.append(
            finding(
                "branch-in-wrong-database",
                "; ".join(row.describe() for row in pair.misplaced)
                + " (the branch belongs in the other database: a command ran against the wrong one)",
                BY_CODE["branch-in-wrong-database"].fix,
                {"rows": [row.to_json() for row in pair.misplaced]},
            )
        )
    if pair.stray_tables:
        found.append(
            finding(
                "install-tables-in-galaxy-database",
                f"the galaxy database {pair.galaxy.database} has the install model's tables "
                f"{', '.join(pair.stray_tables)}; Galaxy reads them from {pair.install.database}",
                BY_CODE["install-tables-in-galaxy-database"].fix,
                {"tables": list(pair.stray_tables)},
            )
        )
    return found
