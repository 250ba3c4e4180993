"""What the doctor found: findings (one catalogue code each) gathered in a report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from runbooks.database.urls import DatabaseUrl
from runbooks.findings.catalogue import BY_CODE, SEVERITIES


@dataclass
class DoctorFinding:
    code: str
    severity: str
    summary: str
    fix: str
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in BY_CODE:
            raise ValueError(f"unknown finding code {self.code!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_json(self) -> dict:
        return asdict(self)


def finding(
    code: str, summary: str, fix: str, details: dict | None = None, severity: str | None = None
) -> DoctorFinding:
    return DoctorFinding(code, severity or BY_CODE[code].severity, summary, fix, details or {})


@dataclass
class Report:
    database: DatabaseUrl
    galaxy: str
    findings: list[DoctorFinding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # checks that ran
    skipped: list[dict] = field(default_factory=list)  # {"check", "why", "enable"}
    seconds: float = 0.0
    note: str = ""  # what to do before pasting a fix (export $RUNBOOK_DB_URL), when needed
    source: dict | None = None  # how the database was chosen (a selection's ``to_json()``)
    install_database: DatabaseUrl | None = None  # a separate tool shed install database, judged on tsi

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def own_findings(self) -> list[DoctorFinding]:
        """The findings about this database: without the note on other runs' leftovers, which a
        killed rehearsal anywhere on the same server (or folder) leaves in every database's report."""
        return [f for f in self.findings if "leftovers" not in f.details]

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def get(self, code: str) -> DoctorFinding | None:
        return next((f for f in self.findings if f.code == code), None)

    def to_json(self) -> dict:
        return {
            "database": self.database.masked(),
            "dialect": self.database.dialect,
            **({"install_database": self.install_database.masked()} if self.install_database else {}),
            **({"database_source": self.source} if self.source else {}),
            "galaxy": self.galaxy,
            "findings": [f.to_json() for f in self.findings],
            "checks": self.checks,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        } | ({"note": self.note} if self.note and self.findings else {})

    def text(self, verbose: bool = False) -> str:
        lines = [f"Database:    {self.database} ({self.database.dialect})"]
        if self.install_database is not None:
            install = self.install_database
            lines = [f"Database:    {self.database} ({self.database.dialect}), branch gxy"]
            lines.append(f"Install DB:  {install} ({install.dialect}), branch tsi")
        lines += [f"Chosen by:   {self.source['from']}"] if self.source else []
        lines += [f"Galaxy code: {self.galaxy}", ""]
        if not self.findings:
            lines.append("No problems found.")
        for item in self.findings:
            lines.append(f"[{item.severity.upper()}] {item.code}: {item.summary}")
            lines += [f"    fix: {line}" for line in item.fix.splitlines()]
            if verbose and item.details:
                lines += [f"    {key}: {value}" for key, value in item.details.items()]
        if self.note and self.findings:
            lines.append(f"Note: {self.note}")
        for skip in self.skipped:
            lines.append(f"(not checked: {skip['check']}: {skip['why']}; {skip['enable']})")
        errors = sum(f.severity == "error" for f in self.findings)
        lines += [
            "",
            f"{len(self.findings)} finding(s), {errors} error(s); {len(self.checks)} checks in {self.seconds:.1f}s.",
        ]
        return "\n".join(lines)
