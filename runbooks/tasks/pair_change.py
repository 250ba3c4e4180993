"""Moving a galaxy database and its separate tool shed install database: each branch in its own database.

Galaxy's own ``DbScript`` reads both URLs from its configuration: a plain ``upgrade`` runs gxy@head
against ``database_connection`` and tsi@head against ``install_database_connection``. Any explicit
revision (``upgrade tsi@head``, ``downgrade base``) it runs against ``database_connection`` alone, so
a tsi step would land in the galaxy database (this tool's issue 25). Here the plan is split by
branch: the gxy part runs in the galaxy database (a plain ``upgrade`` with the install URL given,
as Galaxy's scripts do), the tsi part runs with the install database as Galaxy's database, and each
database is read back against its own rows. A failure in one says where the other stands.
"""

from __future__ import annotations

from dataclasses import replace

from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import Refused
from runbooks.tasks.migrate import GalaxyCall, Outcome, Plan, apply
from runbooks.tasks.printed_commands import DatabaseArgs, command_line
from runbooks.tasks.status import Status


def refuse_misplaced(status: Status, database: DatabaseArgs) -> None:
    """A pair with a row in the wrong database is not moved: the read-back could not tell success."""
    if status.pair is None or not status.pair.misplaced:
        return
    rows = "; ".join(row.describe() for row in status.pair.misplaced)
    raise Refused(
        f"{rows}: put it right first (`{command_line('troubleshoot', database=database)}` says how); "
        "nothing was changed"
    )


def split_plan(plan: Plan, graph: RevisionGraph, joint: bool = True) -> tuple[Plan, Plan]:
    """The gxy part (for the galaxy database) and the tsi part (for the install database).

    ``joint``: Galaxy's plain ``upgrade`` stays one call that moves both (its own two-database path);
    otherwise it becomes ``upgrade gxy@head`` here and ``upgrade tsi@head`` there.
    """
    gxy_calls, tsi_calls = [], []
    for call in plan.calls:
        if call.command == "upgrade" and call.revision is None:
            gxy_calls.append(call if joint else GalaxyCall("upgrade", "gxy@head", "gxy to its head"))
            tsi_calls += [] if joint else [GalaxyCall("upgrade", "tsi@head", "tsi to its head")]
        elif call.revision == "base":  # both branches: each database to its base
            gxy_calls.append(call)
            tsi_calls.append(call)
        elif _is_tsi(call.revision, graph):
            tsi_calls.append(call)
        else:
            gxy_calls.append(call)
    return _part(plan, graph, "gxy", gxy_calls), _part(plan, graph, "tsi", tsi_calls)


def _is_tsi(revision: str | None, graph: RevisionGraph) -> bool:
    if revision is None:
        return False
    if revision.startswith("tsi@"):
        return True
    return graph.branch_of(revision.split("@")[0]) == "tsi"


def _part(plan: Plan, graph: RevisionGraph, branch: str, calls: list[GalaxyCall]) -> Plan:
    mine = lambda rids: [rid for rid in rids if graph.branch_of(rid) == branch]  # noqa: E731
    return replace(
        plan,
        current=tuple(mine(plan.current)),
        revisions=mine(plan.revisions),
        calls=calls,
        expected=set(mine(plan.expected)),
    )


def apply_pair(
    db: DatabaseUrl, install_db: DatabaseUrl, plan: Plan, graph: RevisionGraph, env, gxy_apply=None
) -> Outcome:
    """Both parts, gxy first; the tsi part runs only once the galaxy database reached its target.

    ``gxy_apply(db, plan)``: how the gxy part runs (with a lock-timeout policy: one call per revision).
    """
    joint = gxy_apply is None
    gxy_plan, tsi_plan = split_plan(plan, graph, joint=joint)
    gxy_apply = gxy_apply or (lambda where, part: apply(where, part, env=env, install_db=install_db))
    gxy = gxy_apply(db, gxy_plan)
    if gxy.reached:
        tsi = apply(install_db, tsi_plan, env=env, install_db=install_db)
    else:  # nothing more is run; the install database is read back to say where it stands
        tsi = apply(install_db, replace(tsi_plan, calls=[]), env=env, install_db=install_db)
    return _joined(db, install_db, gxy, tsi, ran_tsi=gxy.reached)


def _joined(db: DatabaseUrl, install_db: DatabaseUrl, gxy: Outcome, tsi: Outcome, ran_tsi: bool) -> Outcome:
    standing = [
        _stands("galaxy database", db, gxy, ran=True),
        _stands("install database", install_db, tsi, ran=ran_tsi),
    ]
    failed = gxy if not gxy.reached else tsi
    return Outcome(
        reached=gxy.reached and tsi.reached,
        rows=gxy.rows + tsi.rows,
        expected=gxy.expected | tsi.expected,
        stopped_at=failed.stopped_at,
        errors=gxy.errors + [f"install database: {error}" for error in tsi.errors],
        migration_log=gxy.migration_log + tsi.migration_log,
        statements=gxy.statements + tsi.statements,
        failed_call=failed.failed_call,
        lock_attempts=gxy.lock_attempts,
        standing=standing,
    )


def _stands(name: str, db: DatabaseUrl, outcome: Outcome, ran: bool) -> str:
    rows = ", ".join(outcome.rows) or "(empty)"
    if outcome.reached:
        verdict = "at its target"
    elif ran:
        verdict = f"NOT at its target ({', '.join(sorted(outcome.expected)) or '(empty)'})"
    else:
        verdict = "not touched: the galaxy database failed first"
    return f"{name} {db}: alembic_version read back = {rows}, {verdict}"
