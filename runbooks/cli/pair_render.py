"""Text for a galaxy database with a separate tool shed install database: each database, its branch."""

from __future__ import annotations

from runbooks.tasks.pair_status import PairFacts
from runbooks.tasks.printed_commands import quoted_path


def pair_lines(pair: PairFacts) -> list[str]:
    """Which database holds which branch, and where each stands; rows or tables in the wrong one."""
    lines = [
        f"  gxy in the galaxy database  {pair.galaxy.database}: {pair.galaxy.state}",
        f"  tsi in the install database {pair.install.database}: {pair.install.state}",
    ]
    lines += [f"  Wrong database: {row.describe()}" for row in pair.misplaced]
    if pair.stray_tables:
        lines.append(f"  Install-model tables in the galaxy database: {', '.join(pair.stray_tables)}")
    return lines


def pair_backup_line(backup_set) -> str:
    """The install database's half of a backup set: the one restore command puts both back."""
    install = backup_set.install
    return (
        f"\nBackup of the install database: {quoted_path(install.path)} ({install.seconds:.1f}s); "
        f"the set {quoted_path(backup_set.path)} names both, so the command above restores the pair"
    )


def pair_json(change, report: dict) -> dict:
    """A change's JSON report, plus the install database's backup and where each database stands."""
    if change.backup_set is not None and "backup" in report:
        report["backup"] |= {"install_path": str(change.backup_set.install.path), "set": str(change.backup_set.path)}
    if change.outcome is not None and change.outcome.standing:
        report["outcome"]["standing"] = change.outcome.standing
    return report
