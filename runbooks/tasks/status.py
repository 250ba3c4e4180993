"""Where a database stands against the Galaxy code: the status contract of the design.

Reads ``alembic_version`` and the table list (read-only) and the revision files
(parsed, not imported), so it answers in a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runbooks.code.environment import BRANCHES, GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.connections import DatabaseSnapshot, inspect_database
from runbooks.database.urls import DatabaseUrl
from runbooks.database.version_rows import BadRow
from runbooks.tasks.printed_commands import DatabaseArgs, command_line, for_url

if TYPE_CHECKING:
    from runbooks.tasks.pair_status import PairFacts

SQLALCHEMY_MIGRATE_LAST = {"gxy": 180, "tsi": 17}
STATES = (
    "up-to-date",
    "behind",
    "multiple-current",
    "unknown-revision",
    "revision-missing",
    "legacy-sqlalchemy-migrate",
    "no-version-table",
    "empty",
    "missing",
    "invalid-version-rows",
    "damaged",
)


@dataclass(frozen=True)
class BranchStatus:
    current: list[str]
    heads: list[str]
    release: str | None
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return bool(self.current) and sorted(self.current) == sorted(self.heads)

    def to_json(self, database: DatabaseArgs | None = None) -> dict:
        return {
            "current": self.current,
            "heads": self.heads,
            "release": self.release,
            "pending": self.pending,
            "up_to_date": self.up_to_date,
        }


@dataclass(frozen=True)
class Status:
    database: DatabaseUrl
    state: str
    branches: dict[str, BranchStatus]
    rows: tuple[str, ...]
    unknown: list[str]
    legacy_migrate_version: int | None
    galaxy: str
    bad_rows: tuple[BadRow, ...] = ()
    damage: str | None = None
    pair: PairFacts | None = None  # a separate install database (runbooks.tasks.pair_status); None: one database

    @property
    def is_healthy(self) -> bool:
        healthy = self.state == "up-to-date" and not self.skipped_migrate
        return healthy and (self.pair is None or self.pair.is_healthy)

    @property
    def skipped_migrate(self) -> bool:
        """alembic_version was written while SQLAlchemy Migrate had not reached its last version (Galaxy 19016)."""
        version = self.legacy_migrate_version
        return bool(self.rows) and version is not None and version < SQLALCHEMY_MIGRATE_LAST[next(iter(self.branches))]

    def to_json(self, database: DatabaseArgs | None = None) -> dict:
        return {
            "database": self.database.masked(),
            "dialect": self.database.dialect,
            "state": self.state,
            "branches": {name: branch.to_json() for name, branch in self.branches.items()},
            "legacy_migrate_version": self.legacy_migrate_version,
            "alembic_version_rows": list(self.rows),
            "unknown_revisions": self.unknown,
            "galaxy": self.galaxy,
            "invalid_version_rows": [row.to_json() for row in self.bad_rows],
            "damage": self.damage,
            "next": next_step(self, database),
        } | (self.pair.to_json() if self.pair is not None else {})


def get_status(
    db: DatabaseUrl,
    graph: RevisionGraph,
    env: GalaxyEnv | None = None,
    snapshot: DatabaseSnapshot | None = None,
    only: tuple[str, ...] = BRANCHES,
) -> Status:
    """The status of ``db``; pass a ``snapshot`` already read to avoid reading the database twice.

    ``only``: the branches this database holds (a separate install database holds tsi alone; the
    first is the one whose row it must have).
    """
    snapshot = snapshot or inspect_database(db)
    rows = tuple(snapshot.alembic_rows or ())
    branches = {name: _branch_status(graph, rows, name) for name in only}
    unknown = [rid for rid in rows if rid not in graph.revisions]
    state = _state(snapshot, graph, rows, unknown, branches)
    if state == "revision-missing" and not rows and at_base(db, graph):  # where `downgrade base` leaves it
        state = "behind"
        branches = {name: replace(branch, pending=graph.pending([], name)) for name, branch in branches.items()}
    return Status(
        database=db,
        state=state,
        branches=branches,
        rows=rows,
        unknown=unknown,
        legacy_migrate_version=snapshot.migrate_version,
        galaxy=(env or GalaxyEnv.from_package()).describe(),
        bad_rows=snapshot.bad_version_rows,
        damage=snapshot.damage,
    )


def at_base(db: DatabaseUrl, graph: RevisionGraph) -> bool:
    """An empty version table over Galaxy's base schema: none of what the gxy revisions create is there."""
    from runbooks.tasks.schema_revision import schema_revision

    found = schema_revision(db, graph)
    return found.revision is None and found.proven and len(found.absent) == found.wanted > 0


def _branch_status(graph: RevisionGraph, rows: tuple[str, ...], branch: str) -> BranchStatus:
    current = [rid for rid in rows if graph.branch_of(rid) == branch]
    known = not any(rid not in graph.revisions for rid in rows)
    return BranchStatus(
        current=current,
        heads=graph.heads(branch),
        release=graph.release_label(current) if branch == "gxy" and known else None,
        pending=graph.pending(current, branch) if known and rows else [],
    )


def _state(snapshot: DatabaseSnapshot, graph, rows, unknown, branches) -> str:
    if not snapshot.exists:
        return "missing"
    if snapshot.damage:
        return "damaged"
    if snapshot.bad_version_rows:
        return "invalid-version-rows"
    if snapshot.alembic_rows is None:
        if snapshot.migrate_version is not None or "migrate_version" in snapshot.tables:
            return "legacy-sqlalchemy-migrate"
        return "empty" if snapshot.is_empty else "no-version-table"
    if unknown:
        return "unknown-revision"
    if any(len(branch.current) > 1 for branch in branches.values()):
        return "multiple-current"
    if not branches[next(iter(branches))].current:
        return "empty" if snapshot.is_empty else "revision-missing"
    if any(branch.pending for branch in branches.values()):
        return "behind"
    return "up-to-date"


def next_step(status: Status, database: DatabaseArgs | None = None) -> str:
    """What a Galaxy admin would do next, as one line; its commands name the same database."""
    database = database or for_url(status.database)

    def cli(task: str, *args: str) -> str:
        return f"`{command_line(task, *args, database=database)}`"

    if status.skipped_migrate:
        return (
            f"SQLAlchemy Migrate stopped at {status.legacy_migrate_version}, before "
            f"{SQLALCHEMY_MIGRATE_LAST['gxy']}, when Alembic took over: some of Galaxy's tables were never made; "
            f"follow the plan above ({cli('troubleshoot')} has details)."
        )
    several = {name: branch.heads for name, branch in status.branches.items() if len(branch.heads) > 1}
    if several and status.state not in ("missing", "empty"):  # no single target: `upgrade` would fail
        name, heads = next(iter(several.items()))
        return (
            f"The code has {len(heads)} {name} heads ({', '.join(heads)}): `manage_db.sh upgrade` fails with "
            f"'Multiple head revisions are present'; merge them first (`run_alembic.sh merge -m MSG "
            f"{' '.join(heads)}`); {cli('troubleshoot')} explains."
        )
    if status.pair is not None and status.pair.next_step(status.state, cli):
        return status.pair.next_step(status.state, cli)
    return {
        "up-to-date": "Nothing to do: the database matches the code.",
        "behind": f"Upgrade: {cli('upgrade', '--rehearse')}, then {cli('upgrade')} (Galaxy: `manage_db.sh upgrade`).",
        "multiple-current": f"More than one revision per branch: {cli('troubleshoot')} explains how to get to one.",
        "unknown-revision": (
            "The database was migrated by other Galaxy code (newer, or a dev branch): run that code, "
            f"or downgrade with it; {cli('troubleshoot')} has details."
        ),
        "revision-missing": f"alembic_version has no gxy row: {cli('troubleshoot')} explains how to stamp it.",
        "legacy-sqlalchemy-migrate": (
            "Under SQLAlchemy Migrate: follow the plan above, one release at a time "
            f"(at version {SQLALCHEMY_MIGRATE_LAST['gxy']} that is {cli('upgrade')}); {cli('troubleshoot')} explains."
        ),
        "no-version-table": f"Not a Galaxy database, or one without a version table: see {cli('troubleshoot')}.",
        "empty": "An empty database: Galaxy initializes it on first start (or `create_db.sh`).",
        "missing": "No database here: check the path or URL; Galaxy creates it on first start (`create_db.sh`).",
        "invalid-version-rows": "alembic_version holds rows that are not revision ids: back up, then "
        + " ".join(row.fix_sql for row in status.bad_rows),
        "damaged": f"The file is damaged ({status.damage}): restore a backup, or {cli('troubleshoot')} for a salvage.",
    }[status.state]


# -- Galaxy's own views, for reading side by side with `db_dev.sh` -----------------


def dbversion_lines(status: Status, graph: RevisionGraph) -> list[str]:
    """What ``db_dev.sh dbversion`` prints: each row, ``(head)`` when it is a head."""
    heads = set(graph.heads())
    return [f"{rid} (head)" if rid in heads else rid for rid in status.rows]


def version_lines(graph: RevisionGraph) -> list[str]:
    """What ``db_dev.sh version`` prints: each head with its branch label."""
    return [f"{rid} ({graph.revisions[rid].branch}) (head)" for rid in graph.heads()]


def history_line(graph: RevisionGraph, rev_id: str, current: set[str]) -> str:
    """One line of ``db_dev.sh history --indicate-current``, in Alembic's format."""
    revision = graph.revisions[rev_id]
    parents = ", ".join(revision.parents) if revision.parents else "<base>"
    children = graph.children.get(rev_id, [])
    text = f"{parents} -> {rev_id} ({revision.branch})"
    text += " (head)" if not children else ""
    text += " (current)" if rev_id in current else ""
    text += " (branchpoint)" if len(children) > 1 else ""
    text += " (mergepoint)" if revision.is_merge else ""
    return f"{text}, {revision.message}"


def history_lines(graph: RevisionGraph, current: tuple[str, ...], limit: int | None = None) -> list[str]:
    """Newest first, as Alembic lists them; with ``limit``, the newest entries and the current one.

    A gap is shown as a line ``⋮ N more``.
    """
    order = list(reversed(graph.in_order()))
    lines = [history_line(graph, rid, set(current)) for rid in order]
    if limit is None:
        return lines
    keep = set(range(min(limit, len(order))))
    for rid in current:
        if rid in order:
            at = order.index(rid)
            keep |= {i for i in (at - 1, at, at + 1) if 0 <= i < len(order)}
    shown, previous = [], -1
    for index in sorted(keep):
        if index > previous + 1:
            shown.append(f"⋮ {index - previous - 1} more")
        shown.append(lines[index])
        previous = index
    return shown
