"""Human-readable renderings of the library's results (the CLI and notebooks print these)."""

from __future__ import annotations

from runbooks.revisions import RevisionGraph
from runbooks.status import Status, dbversion_lines, history_lines, next_step, version_lines


def status_text(status: Status, graph: RevisionGraph, history: int = 8) -> str:
    lines = [
        f"Database:    {status.database} ({status.database.dialect})",
        f"Galaxy code: {status.galaxy}",
        f"State:       {status.state}",
    ]
    if status.legacy_migrate_version is not None:
        lines.append(f"SQLAlchemy Migrate version: {status.legacy_migrate_version}")
    for name, branch in status.branches.items():
        current = ", ".join(branch.current) or "(none)"
        release = f"  release {branch.release}" if branch.release else ""
        lines.append(f"{name}: current {current}{release}; head {', '.join(branch.heads)}")
        if branch.pending:
            shown = ", ".join(branch.pending[:5]) + (" …" if len(branch.pending) > 5 else "")
            lines.append(f"     {len(branch.pending)} pending: {shown}")
    if status.unknown:
        lines.append(f"Unknown to this code: {', '.join(status.unknown)}")
    if status.rows or status.state in ("up-to-date", "behind", "multiple-current", "unknown-revision"):
        lines += ["", "Current revision(s), as `db_dev.sh dbversion` prints them:"]
        lines += [f"  {line}" for line in dbversion_lines(status, graph)] or ["  (none)"]
    lines += ["", "Code heads, as `db_dev.sh version` prints them:"]
    lines += [f"  {line}" for line in version_lines(graph)]
    if status.rows and not status.unknown and history:
        lines += ["", "Recent history, as `db_dev.sh history --indicate-current` prints it:"]
        lines += [f"  {line}" for line in history_lines(graph, status.rows, limit=history)]
    lines += ["", f"Next: {next_step(status)}"]
    return "\n".join(lines)


def pending_text(status: Status, graph: RevisionGraph) -> str:
    """The revisions an upgrade to head would run, per branch, each with its message."""
    lines = []
    for name, branch in status.branches.items():
        if not branch.pending:
            lines.append(f"{name}: nothing pending")
            continue
        lines.append(f"{name}: {len(branch.pending)} pending")
        lines += [f"  {rid}  {graph.revisions[rid].message}" for rid in branch.pending]
    return "\n".join(lines)
