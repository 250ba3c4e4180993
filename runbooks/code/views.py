"""The views Galaxy's applied revisions leave, with the query each was last made from.

Galaxy made ``collection_job_state_summary_view`` with ``op.execute("CREATE VIEW ... AS ...")``
(c39f1de47a04 re-made it with a ``skipped`` column) and dropped it (3356bc2ecfc4). A view left from
before the revision that re-made it lacks that column and Galaxy fails at runtime (Galaxy issue
15701: ``column collection_job_state_summary_view.skipped does not exist``). Read from the files'
``op.execute`` statements for the database's dialect, never imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runbooks.code.revision_source import RevisionSource, statements
from runbooks.code.revisions import RevisionGraph

CREATE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)\s+AS\s+(.+)$", re.I | re.S)
DROP = re.compile(r"^\s*DROP\s+VIEW\s+(?:IF\s+EXISTS\s+)?(\w+)", re.I)


@dataclass(frozen=True)
class ViewState:
    name: str
    revision: str  # the last applied revision that made or dropped it
    query: str | None  # None: that revision dropped it


def views_left(graph: RevisionGraph, applied: list[str], dialect: str) -> dict[str, ViewState]:
    """For each view the applied revisions (oldest first) make or drop: its state after the last of them."""
    left: dict[str, ViewState] = {}
    for rid in applied:
        revision = graph.revisions.get(rid)
        if revision is None or "VIEW" not in revision.path.read_text(encoding="utf-8", errors="replace").upper():
            continue
        source = RevisionSource.read(revision.path)
        for statement in statements(source, "upgrade"):
            if statement.kind != "execute" or statement.ctx.dialect not in (None, dialect) or not statement.call.args:
                continue
            text = source.string(statement.call.args[0], statement.ctx.function) or ""
            if "{?}" in text:
                continue
            if made := CREATE.match(text):
                left[made[1]] = ViewState(made[1], rid, made[2].strip().rstrip(";"))
            elif dropped := DROP.match(text):
                left[dropped[1]] = ViewState(dropped[1], rid, None)
    return left
