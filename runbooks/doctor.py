"""The doctor: every known migration problem, diagnosed on the user's own database.

``diagnose(db, graph, env)`` runs the checks of ``doctor_checks`` and returns a ``Report``
of ``Finding``s: ``{code, severity, summary, fix, details}``, one stable code per problem
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
from dataclasses import asdict, dataclass, field

from runbooks.databases import DatabaseUrl
from runbooks.galaxy_env import GalaxyEnv
from runbooks.revisions import RevisionGraph

SEVERITIES = ("error", "warning", "info")
CLI = "python -m runbooks"
REHEARSAL_LIMIT_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    summary: str
    fix: str


# The catalogue: one entry per finding code, in the order the doctor checks them.
CODES = [
    Code(
        "database-missing",
        "error",
        "The database (SQLite file or PostgreSQL database) does not exist.",
        "Check the path or URL; Galaxy creates and initializes a missing database on first start (or `create_db.sh`).",
    ),
    Code(
        "database-empty",
        "warning",
        "The database exists but holds no tables (or only kombu_* tables).",
        "Galaxy initializes it on first start (or `create_db.sh`); `manage_db.sh` refuses to run on it.",
    ),
    Code(
        "no-version-table",
        "error",
        "Tables exist but neither alembic_version nor migrate_version: Galaxy cannot tell the schema's version.",
        "Restore the version table from a backup, or stamp the revision the schema matches "
        "(`run_alembic.sh stamp REV`) after checking it with `troubleshoot --drift`.",
    ),
    Code(
        "sqlalchemy-migrate-wrong-version",
        "error",
        "Under SQLAlchemy Migrate at a version other than 180 (gxy) / 17 (tsi): Alembic cannot take over.",
        "Two steps: reach version 180 with a release_22.01 checkout (`manage_db.sh upgrade`), then upgrade "
        "with this code.",
    ),
    Code(
        "sqlalchemy-migrate-needs-alembic",
        "error",
        "Under SQLAlchemy Migrate at its last version: Galaxy refuses to start until it is moved to Alembic.",
        "`manage_db.sh upgrade` (or `python -m runbooks upgrade`) moves it to Alembic and to head.",
    ),
    Code(
        "revision-missing-for-branch",
        "error",
        "alembic_version has no row for a branch (gxy or tsi) although the database has its tables.",
        "Stamp the branch's revision the schema is at (`run_alembic.sh stamp REV`), or restore a backup.",
    ),
    Code(
        "database-behind",
        "error",
        "The database is at an older revision than the code: Galaxy refuses to start (OutdatedDatabaseError).",
        "`python -m runbooks upgrade --rehearse`, then `python -m runbooks upgrade` (Galaxy: `manage_db.sh upgrade`).",
    ),
    Code(
        "unknown-revision",
        "error",
        "alembic_version holds a revision no file in this code has: a newer Galaxy or a development branch "
        "migrated it.",
        "Run the Galaxy that wrote it, or with that code downgrade to this code's head (`manage_db.sh downgrade "
        "HEAD`).",
    ),
    Code(
        "multiple-current-revisions",
        "error",
        "More than one alembic_version row for one branch (a downgrade across merge revisions leaves them).",
        "Upgrade to the merge that joins them (`manage_db.sh upgrade`), or undo the side rows "
        "(`manage_db.sh downgrade REV@-1`; `python -m runbooks downgrade TARGET` does it).",
    ),
    Code(
        "multiple-heads",
        "error",
        "The code (a checkout) has more than one head on a branch: `upgrade` fails with "
        "'Multiple head revisions are present'.",
        "Add a merge revision (`run_alembic.sh merge -m MSG HEAD1 HEAD2`) or re-parent the newer revision "
        "(set its down_revision to the other head).",
    ),
    Code(
        "objects-already-exist",
        "error",
        "Objects a pending revision creates are already in the database: the upgrade would stop there.",
        "Drop the leftover (statement given) if it holds nothing you need, or `db_dev.sh upgrade --repair` "
        "(skips Galaxy util helpers' objects only).",
    ),
    Code(
        "upgrade-will-fail",
        "error",
        "A rehearsal of the pending upgrade on a throwaway copy failed: the first failing revision and the real "
        "database error.",
        "The recognised cause's fix (given), then `python -m runbooks upgrade --rehearse` again.",
    ),
    Code(
        "foreign-key-orphans",
        "warning",
        "Rows whose foreign-key values point to rows that do not exist (SQLite does not enforce foreign keys).",
        "Review, back up, then run the cleanup SQL given for each key (UPDATE ... SET NULL or DELETE).",
    ),
    Code(
        "active-sessions",
        "warning",
        "Other sessions or processes use the database: a migration may block them, or they may block it.",
        "Stop Galaxy (web, job handlers, workflow schedulers, celery) before migrating.",
    ),
    Code(
        "blocked-by-locks",
        "error",
        "A session waits for locks another session holds (PostgreSQL): a migration would hang the same way.",
        "End the blocking session (stop that process, or `SELECT pg_terminate_backend(PID);` if you choose).",
    ),
    Code(
        "database-locked",
        "error",
        "Another process holds a write lock on the SQLite file: a migration would fail with 'database is locked'.",
        "Stop the process named by its pid (a running Galaxy?), then migrate.",
    ),
    Code(
        "schema-drift",
        "warning",
        "The schema differs from Galaxy's models (gxy and tsi) although the version table says up to date.",
        "Find the change that was made by hand or by a dev branch; fix the schema (or the model), "
        "then `troubleshoot --drift` again.",
    ),
]
_BY_CODE = {code.code: code for code in CODES}


def catalogue() -> list[tuple[str, str, str, str]]:
    """Every finding code: (code, severity, summary, usual fix), for the reference page."""
    return [(c.code, c.severity, c.summary, c.fix) for c in CODES]


@dataclass
class Finding:
    code: str
    severity: str
    summary: str
    fix: str
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in _BY_CODE:
            raise ValueError(f"unknown finding code {self.code!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_json(self) -> dict:
        return asdict(self)


def finding(code: str, summary: str, fix: str, details: dict | None = None, severity: str | None = None) -> Finding:
    return Finding(code, severity or _BY_CODE[code].severity, summary, fix, details or {})


@dataclass
class Report:
    database: DatabaseUrl
    galaxy: str
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # checks that ran
    skipped: list[dict] = field(default_factory=list)  # {"check", "why", "enable"}
    seconds: float = 0.0

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def get(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def to_json(self) -> dict:
        return {
            "database": self.database.masked(),
            "dialect": self.database.dialect,
            "galaxy": self.galaxy,
            "findings": [f.to_json() for f in self.findings],
            "checks": self.checks,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }

    def text(self, verbose: bool = False) -> str:
        lines = [f"Database:    {self.database} ({self.database.dialect})", f"Galaxy code: {self.galaxy}", ""]
        if not self.findings:
            lines.append("No problems found.")
        for item in self.findings:
            lines.append(f"[{item.severity.upper()}] {item.code}: {item.summary}")
            lines += [f"    fix: {line}" for line in item.fix.splitlines()]
            if verbose and item.details:
                lines += [f"    {key}: {value}" for key, value in item.details.items()]
        for skip in self.skipped:
            lines.append(f"(not checked: {skip['check']}: {skip['why']}; {skip['enable']})")
        errors = sum(f.severity == "error" for f in self.findings)
        lines += [
            "",
            f"{len(self.findings)} finding(s), {errors} error(s); {len(self.checks)} checks in {self.seconds:.1f}s.",
        ]
        return "\n".join(lines)


def diagnose(
    db: DatabaseUrl,
    graph: RevisionGraph,
    env: GalaxyEnv | None = None,
    *,
    rehearse: bool | None = None,
    drift: bool = False,
    every_foreign_key: bool = False,
    rehearsal_limit_bytes: int = REHEARSAL_LIMIT_BYTES,
) -> Report:
    """Run every check that applies; ``rehearse``: None = when behind and small enough, True/False = force."""
    from runbooks import doctor_checks as checks

    started = time.monotonic()
    env = env or GalaxyEnv.from_package()
    report = Report(db, env.describe())
    context = checks.Context(db, graph, env, report)
    checks.run_all(
        context,
        rehearse=rehearse,
        drift=drift,
        every_foreign_key=every_foreign_key,
        rehearsal_limit_bytes=rehearsal_limit_bytes,
    )
    order = {code.code: index for index, code in enumerate(CODES)}
    report.findings.sort(key=lambda f: (SEVERITIES.index(f.severity), order[f.code]))
    report.seconds = time.monotonic() - started
    return report
