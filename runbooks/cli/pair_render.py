"""Text for a galaxy database with a separate tool shed install database: each database, its branch."""

from __future__ import annotations

from runbooks.tasks.pair_status import PairFacts


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
