"""Moving a database: plan, apply through Galaxy's own DbScript, verify by reading back.

Galaxy's env swallows database errors, so "no exception" proves nothing: success is
declared only when ``alembic_version`` holds exactly the rows the target implies.
A downgrade across merge revisions leaves side-branch rows behind with Galaxy's plain
command; the plan adds ``REV@-1`` steps for each so one row per branch remains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runbooks.code.revisions import RevisionGraph
from runbooks.code.targets import Target, expected_rows, resolve_target
from runbooks.database.connections import inspect_database
from runbooks.database.search_path import schema_place
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import GalaxyCommandFailed, SeeCommand, UsageError
from runbooks.tasks.printed_commands import DatabaseArgs, see


@dataclass(frozen=True)
class GalaxyCall:
    """One DbScript command: ``upgrade``/``downgrade`` with the revision argument Galaxy gets."""

    command: str
    revision: str | None
    why: str

    def shell(self) -> str:
        return f"manage_db.sh {self.command}" + (f" {self.revision}" if self.revision else "")


@dataclass
class Plan:
    direction: str
    target: Target
    current: tuple[str, ...]
    revisions: list[str]  # in the order they run
    calls: list[GalaxyCall]
    expected: set[str]
    notes: list[str] = field(default_factory=list)

    @property
    def is_noop(self) -> bool:
        return not self.revisions and set(self.current) == self.expected


def make_plan(
    graph: RevisionGraph,
    current: tuple[str, ...],
    target_text: str,
    direction: str,
    database: DatabaseArgs | None = None,
) -> Plan:
    """The calls and the rows they lead to; a refusal's way out names ``database`` (the user's --db/--galaxy-root)."""
    with see(database):
        target = resolve_target(target_text, graph, current)
        unknown = [rid for rid in current if rid not in graph.revisions]
        if unknown:
            raise SeeCommand(
                f"the database is at {', '.join(unknown)}, which this Galaxy code does not have: "
                "use the Galaxy release that wrote it",
                "troubleshoot",
            )
    applied = graph.ancestors(current)
    wanted = set() if target.gxy is None else graph.ancestors([target.gxy])
    if direction == "upgrade":
        return _upgrade_plan(graph, current, target, applied, wanted)
    return _downgrade_plan(graph, current, target, applied, wanted)


def _upgrade_plan(graph, current, target, applied, wanted) -> Plan:
    if target.touches_gxy and target.gxy is not None and target.gxy in applied and target.gxy not in current:
        raise UsageError(f"{target.text} ({target.gxy}) is below the database's current revision: use downgrade")
    if target.is_base:
        raise UsageError("base is below every revision: use downgrade base")
    todo = set(wanted) - applied if target.touches_gxy else set()
    if target.include_tsi_head:
        todo |= graph.ancestors(graph.heads("tsi")) - applied
    order = graph.in_order(among=todo)
    if target.text.lower() in ("head", "heads"):
        calls = [GalaxyCall("upgrade", None, "Galaxy's default: gxy@head, then tsi@head")]
    else:
        calls = []
        if target.touches_gxy:
            calls.append(GalaxyCall("upgrade", target.gxy, f"gxy to {target.gxy}"))
        if target.include_tsi_head:
            calls.append(GalaxyCall("upgrade", "tsi@head", "tsi to its head"))
    return Plan("upgrade", target, current, order, calls, expected_rows(target, graph, current, True))


def _downgrade_plan(graph, current, target, applied, wanted) -> Plan:
    if target.include_tsi_head and not target.touches_gxy:
        raise UsageError(f"{target.text} is not below the current revision: use upgrade")
    if target.gxy is not None and target.gxy not in applied:
        raise UsageError(f"{target.text} ({target.gxy}) is not below the database's current revision: use upgrade")
    undo = applied - wanted
    if not target.tsi_base:
        undo = {rid for rid in undo if graph.branch_of(rid) == "gxy"}
    order = list(reversed(graph.in_order(among=undo)))
    galaxy_arg = "base" if target.is_base and target.tsi_base else ("gxy@base" if target.is_base else target.gxy)
    calls = [GalaxyCall("downgrade", galaxy_arg, f"Galaxy's downgrade to {target.text}")]
    leftovers = _rows_after_plain_downgrade(graph, applied, target)
    side_calls = _side_branch_calls(graph, [rid for rid in order if rid in graph.ancestors(leftovers)], wanted)
    calls += side_calls
    notes = (
        [
            f"Galaxy's plain downgrade would leave {', '.join(leftovers)} in alembic_version (a side branch of a merge "
            f"below {target.text}); {len(side_calls)} extra step(s) undo it so one row per branch remains"
        ]
        if leftovers
        else []
    )
    return Plan("downgrade", target, current, order, calls, expected_rows(target, graph, current, False), notes)


def _side_branch_calls(graph: RevisionGraph, side: list[str], wanted: set[str]) -> list[GalaxyCall]:
    """Undo ``side`` (newest first) one revision at a time with commands Alembic can walk.

    ``REV@-1`` is ambiguous for a merge revision (Alembic: "Ambiguous walk"), so a merge is undone
    by downgrading to a parent outside the target's ancestry: everything above that parent
    goes, and nothing the target needs is above it.
    """
    calls, remaining = [], set(side)
    for rid in side:
        if rid not in remaining:
            continue
        parents = graph.revisions[rid].parents
        if len(parents) <= 1:
            calls.append(GalaxyCall("downgrade", f"{rid}@-1", f"undo {rid}, left by the merge crossing"))
            remaining.discard(rid)
            continue
        outside = [parent for parent in parents if parent not in wanted]
        if not outside:
            raise UsageError(
                f"undoing the merge revision {rid} needs a relative step Alembic cannot walk (every parent "
                "stays): downgrade to a revision below it instead"
            )
        calls.append(GalaxyCall("downgrade", outside[0], f"undo the merge {rid} down to its parent {outside[0]}"))
        remaining -= graph.descendants(outside[0])
    return calls


def _rows_after_plain_downgrade(graph: RevisionGraph, applied: set[str], target: Target) -> list[str]:
    """Side-branch rows Alembic keeps when downgrading across a merge to ``target``."""
    if target.gxy is None:
        return []
    keep = {rid for rid in applied if rid not in graph.descendants(target.gxy) and graph.branch_of(rid) == "gxy"}
    heads = {rid for rid in keep if not (graph.descendants(rid) & keep)}
    return sorted(heads - graph.ancestors([target.gxy]))


# -- applying ---------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened, as read back from the database."""

    reached: bool
    rows: tuple[str, ...]
    expected: set[str]
    stopped_at: str | None = None
    errors: list[str] = field(default_factory=list)
    migration_log: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    failed_call: GalaxyCall | None = None
    lock_attempts: list = field(default_factory=list)  # runbooks.tasks.lock_wait.LockAttempt, one per timeout
    standing: list[str] = field(default_factory=list)  # a pair: where each database stands, read back


def read_rows(db: DatabaseUrl) -> tuple[str, ...]:
    return inspect_database(db).alembic_rows or ()


def apply(
    db: DatabaseUrl,
    plan: Plan,
    record_sql: bool = False,
    env=None,
    lock_timeout: str | None = None,
    install_db: DatabaseUrl | None = None,
) -> Outcome:
    """Run the plan's Galaxy calls one by one; stop at the first one that leaves an error behind.

    ``lock_timeout`` (PostgreSQL, e.g. ``"5000ms"``): every statement of the migration waits at most that long.
    ``install_db``: Galaxy's install_database_connection for these calls (a plain ``upgrade`` sends tsi there).
    """
    from runbooks.galaxy.commands import run_dbscript

    log, errors, statements = [], [], []
    for call in plan.calls:
        try:
            output = run_dbscript(
                db,
                call.command,
                record_sql=record_sql,
                env=env,
                lock_timeout=lock_timeout,
                install_db=install_db,
                revision=call.revision,
            )
        except GalaxyCommandFailed as error:
            log += error.migration_log
            errors += error.errors
            errors.append(f"FAILED: {error.galaxy_message}" if error.kind == "CommandError" else str(error))
            return _outcome(db, plan, log, errors, statements, call)
        log += output.migration_log
        statements += output.statements
        if output.errors:
            errors += output.errors
            return _outcome(db, plan, log, errors, statements, call)
    return _outcome(db, plan, log, errors, statements, None)


def _outcome(db, plan, log, errors, statements, failed_call) -> Outcome:
    rows = read_rows(db)
    errors = _schema_split(db) + errors
    reached = set(rows) == plan.expected and not errors
    stopped_at = None if reached else _last_running(log)
    return Outcome(reached, rows, plan.expected, stopped_at, errors, log, statements, failed_call)


def _schema_split(db: DatabaseUrl) -> list[str]:
    """The read-back proves the schema Galaxy reads moved: a migration that changed another one did not."""
    if db.is_sqlite:
        return []
    place = schema_place(db)
    return [f"the migration ran in the wrong schema: {place.problem()}"] if place.split else []


def _last_running(log: list[str]) -> str | None:
    """The revision Alembic was running when it stopped (from 'Running upgrade A -> B, ...')."""
    for line in reversed(log):
        if line.startswith("Running upgrade") or line.startswith("Running downgrade"):
            return line.split(",")[0].removeprefix("Running ")
    return None
