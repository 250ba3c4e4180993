"""What the doctor's checks share while they examine one database: the inputs, what was read, the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from runbooks.code.environment import BRANCHES, GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.connections import DatabaseSnapshot
from runbooks.database.urls import DatabaseUrl
from runbooks.findings.report import Report, finding
from runbooks.tasks.printed_commands import DatabaseArgs, command_line, for_url
from runbooks.tasks.status import Status

SHOWN = 5


@dataclass
class Examination:
    """One doctor run over one database; each check reads from it and appends findings to its report."""

    db: DatabaseUrl
    graph: RevisionGraph
    env: GalaxyEnv
    report: Report
    snapshot: DatabaseSnapshot | None = None
    status: Status | None = None
    busy: list[str] = field(default_factory=list)  # why a copy of the database would wait
    database: DatabaseArgs | None = None  # how a fix's commands name this database (default: --db)
    only: tuple[str, ...] = BRANCHES  # the branches this database holds (a separate install database: tsi)

    def cli(self, task: str, *args: str) -> str:
        """A command for a fix, in backticks, naming this same database."""
        return f"`{command_line(task, *args, database=self.database or for_url(self.db))}`"

    def ran(self, check: str) -> None:
        self.report.checks.append(check)

    def add(self, *args, **kwargs) -> None:
        self.report.findings.append(finding(*args, **kwargs))

    def skip(self, check: str, why: str, enable: str) -> None:
        self.report.skipped.append({"check": check, "why": why, "enable": enable})


def shown_ids(items, limit: int = SHOWN) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")
