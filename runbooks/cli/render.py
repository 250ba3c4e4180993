"""Human-readable renderings of the library's results (the CLI and notebooks print these)."""

from __future__ import annotations

from runbooks.cli.pair_render import pair_backup_line, pair_json, pair_lines
from runbooks.code.revisions import RevisionGraph
from runbooks.tasks import legacy_plan
from runbooks.tasks.printed_commands import DatabaseArgs, command_line, for_url, quoted_path
from runbooks.tasks.status import Status, dbversion_lines, history_lines, next_step, version_lines


def status_text(
    status: Status, graph: RevisionGraph, history: int = 8, database: DatabaseArgs | None = None, chosen_by: str = ""
) -> str:
    lines = [
        f"Database:    {status.database} ({status.database.dialect})",
        *([f"Chosen by:   {chosen_by}"] if chosen_by else []),
        f"Galaxy code: {status.galaxy}",
        f"State:       {status.state}",
    ]
    lines += pair_lines(status.pair) if status.pair is not None else []
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
    lines += [f"Not a revision id: {row.describe()}; {row.action} it with: {row.fix_sql}" for row in status.bad_rows]
    lines += [f"Damaged: {status.damage}"] if status.damage else []
    if status.rows or status.state in ("up-to-date", "behind", "multiple-current", "unknown-revision"):
        lines += ["", "Current revision(s), as `db_dev.sh dbversion` prints them:"]
        lines += [f"  {line}" for line in dbversion_lines(status, graph)] or ["  (none)"]
    lines += ["", "Code heads, as `db_dev.sh version` prints them:"]
    lines += [f"  {line}" for line in version_lines(graph)]
    if status.rows and not status.unknown and history:
        lines += ["", "Recent history, as `db_dev.sh history --indicate-current` prints it:"]
        lines += [f"  {line}" for line in history_lines(graph, status.rows, limit=history)]
    database = database or for_url(status.database)
    steps = legacy_plan.lines_for(status, graph, database)
    if steps:
        lines += ["", "Plan for a database from before Alembic, one step at a time:"] + [f"  {step}" for step in steps]
    lines += ["", f"Next: {next_step(status, database)}"]
    if status.state != "up-to-date" and database.note():
        lines.append(f"Note: {database.note()}")
    return "\n".join(lines)


def restore_command(change) -> str:
    """The one command that puts the change's backup back, onto the same database."""
    path = change.backup.path.resolve()
    return command_line("restore", path, "--yes", database=change.selection.database_args)


def backup_text(change) -> str:
    backup = change.backup
    line = f"Backup: {quoted_path(backup.path)} ({backup.seconds:.1f}s); restore with: `{restore_command(change)}`"
    line += pair_backup_line(change.backup_set) if change.backup_set is not None else ""
    note = change.selection.database_args.note()
    return line + (f"\nNote: {note}" if note else "")


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


def plan_text(plan, graph: RevisionGraph, dialect: str) -> str:
    from runbooks.code.effects import effects

    if plan.is_noop:
        return f"Nothing to do: the database is already at {plan.target.text} ({', '.join(sorted(plan.expected))})."
    verb = "apply" if plan.direction == "upgrade" else "undo"
    lines = [f"Plan: {plan.direction} to {plan.target.text}; {len(plan.revisions)} revision(s) to {verb}, in order:"]
    for rev_id in plan.revisions:
        revision = graph.revisions[rev_id]
        notes = effects(revision).notes(plan.direction, dialect)
        lines.append(f"  {rev_id} ({revision.branch}) {revision.message}")
        lines += [f"      - {note}" for note in notes]
    lines.append("Galaxy commands, in order:")
    lines += [f"  {call.shell()}    # {call.why}" for call in plan.calls]
    lines += [f"Note: {note}" for note in plan.notes]
    lines.append(f"Expected alembic_version afterwards: {', '.join(sorted(plan.expected)) or '(empty)'}")
    return "\n".join(lines)


def activity_text(found) -> str:
    if not found.blockers and not found.others:
        return "Pre-flight: no other sessions or locks on this database."
    lines = ["Pre-flight:"]
    lines += [f"  BLOCKS: {text}" for text in found.blockers]
    lines += [f"  connected: {text}" for text in found.others]
    return "\n".join(lines)


def outcome_text(change) -> str:
    outcome = change.outcome
    rows = ", ".join(outcome.rows) or "(empty)"
    if outcome.reached:
        done = f"Done: alembic_version read back = {rows}, which is the target {change.plan.target.text}."
        return "\n".join([done, *(f"  {line}" for line in outcome.standing)])
    lines = [
        f"NOT DONE: the database did not reach {change.plan.target.text}.",
        f"  alembic_version read back: {rows} (expected {', '.join(sorted(outcome.expected)) or '(empty)'})",
    ]
    lines += [f"  {line}" for line in outcome.standing]
    if outcome.stopped_at:
        lines.append(f"  stopped while running: {outcome.stopped_at}")
    lines += [f"  database error: {error}" for error in outcome.errors[:3]]
    if outcome.lock_attempts:
        attempts = outcome.lock_attempts
        lines.append(f"  gave up waiting for a lock after {len(attempts)} tries: {attempts[-1].describe()}")
    if not outcome.errors:
        lines.append("  no database error was raised: Galaxy's command returned normally without reaching the target")
    if change.explanation:
        lines += [f"  cause: {change.explanation.cause}", f"  way out: {way_out_text(change)}"]
    if change.backup:
        lines.append(f"  to put the database back as it was: `{restore_command(change)}`")
    return "\n".join(lines)


def way_out_text(change) -> str:
    """The explanation's fix, with its statements only when a rehearsal on a copy proved them."""
    fix, proof = change.explanation.fix, change.proof
    if proof is None:
        return fix
    if proof.proven:
        return f"{fix}: {' '.join(proof.statements)} ({proof.describe()}); then run the same command again"
    return f"{fix}; no statement is given: {proof.describe()}"


def rehearsal_text(rehearsal, show_sql: int = 0) -> str:
    lines = [rehearsal.summary(), *(rehearsal.scope.lines() if rehearsal.scope else [])]
    lines += [f"Found first by a precondition on the live rows: {p.describe()}" for p in rehearsal.scoped_found or []]
    if show_sql:
        lines += [f"  {statement.splitlines()[0][:160]}" for statement in rehearsal.changes[:show_sql]]
        if len(rehearsal.changes) > show_sql:
            lines.append(f"  … {len(rehearsal.changes) - show_sql} more")
    return "\n".join(lines)


def data_loss(plan, graph: RevisionGraph, dialect: str) -> list[dict]:
    """Per step of the plan that loses data for good (a drop, rows rewritten), what it loses."""
    from runbooks.code.effects import effects

    steps = [(rev_id, effects(graph.revisions[rev_id]).losses(plan.direction, dialect)) for rev_id in plan.revisions]
    return [{"revision": rev_id, "losses": losses} for rev_id, losses in steps if losses]


def change_json(change) -> dict:
    """The upgrade/downgrade report for scripts."""
    plan = change.plan
    report = {
        "database": change.selection.db.masked(),
        "database_source": change.selection.to_json(),
        "direction": change.direction,
        "target": plan.target.text,
        "before": change.before.to_json(change.selection.database_args),
        "plan": {
            "revisions": plan.revisions,
            "galaxy_commands": [call.shell() for call in plan.calls],
            "expected": sorted(plan.expected),
            "notes": plan.notes,
            "data_loss": data_loss(plan, change.selection.graph, change.selection.db.dialect),
        },
        "succeeded": change.succeeded,
    }
    if change.outcome is not None and change.outcome.lock_attempts:
        report["lock_timeouts"] = [attempt.describe() for attempt in change.outcome.lock_attempts]
    if change.server_check is not None:
        report["server_preflight"] = change.server_check.to_json()
    if change.activity is not None:
        report["preflight"] = {"blockers": change.activity.blockers, "others": change.activity.others}
    if change.rehearsal is not None:
        outcome = change.rehearsal.outcome
        report["rehearsal"] = {
            "succeeded": change.rehearsal.succeeded,
            "copy": change.rehearsal.copy_method,
            "stopped_at": outcome.stopped_at,
            "errors": outcome.errors,
            "statements": change.rehearsal.changes,
        }
        if change.rehearsal.scope is not None:  # which way each revision was rehearsed, and what that proves
            report["rehearsal"]["scope"] = change.rehearsal.scope.to_json()
            report["rehearsal"]["scope"]["scoped_found"] = [p.to_json() for p in change.rehearsal.scoped_found or []]
    if change.backup is not None:
        note = change.selection.database_args.note()
        report["backup"] = {"path": str(change.backup.path), "restore": restore_command(change)}
        report["backup"] |= {"note": note} if note else {}
    if change.outcome is not None:
        outcome = change.outcome
        report["outcome"] = {
            "reached": outcome.reached,
            "alembic_version": list(outcome.rows),
            "expected": sorted(outcome.expected),
            "stopped_at": outcome.stopped_at,
            "errors": outcome.errors,
        }
        report["after"] = change.after.to_json(change.selection.database_args) if change.after else None
    if change.explanation:  # the JSON key stays "diagnosis"
        proven = change.proof is not None and change.proof.proven
        report["diagnosis"] = {
            "cause": change.explanation.cause,
            "fix": way_out_text(change),
            "statements": list(change.proof.statements) if proven else [],  # only once a copy proved them
        }
    return pair_json(change, report)
