"""The doctor's checks, one function per concern; each appends findings to the report.

The order and the "only when" rules are the cost design described in ``runbooks.doctor``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.code.environment import BRANCHES, GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.connections import DatabaseSnapshot, inspect_database, read_only_cursor
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor.report import Report, finding
from runbooks.paths import CLI
from runbooks.status import SQLALCHEMY_MIGRATE_LAST, Status, get_status

TSI_TABLES = ("tool_shed_repository", "tool_dependency", "tool_version")
SHOWN = 5


@dataclass
class Context:
    db: DatabaseUrl
    graph: RevisionGraph
    env: GalaxyEnv
    report: Report
    snapshot: DatabaseSnapshot | None = None
    status: Status | None = None
    busy: list[str] = field(default_factory=list)  # why a copy of the database would wait

    def ran(self, check: str) -> None:
        self.report.checks.append(check)

    def add(self, *args, **kwargs) -> None:
        self.report.findings.append(finding(*args, **kwargs))

    def skip(self, check: str, why: str, enable: str) -> None:
        self.report.skipped.append({"check": check, "why": why, "enable": enable})


def _ids(items, limit: int = SHOWN) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def run_all(ctx: Context, *, rehearse, drift, every_foreign_key, rehearsal_limit_bytes) -> None:
    check_heads(ctx)
    ctx.snapshot = inspect_database(ctx.db)
    if not check_existence(ctx):
        return
    ctx.status = get_status(ctx.db, ctx.graph, ctx.env, ctx.snapshot)
    check_version_table(ctx)
    check_sessions(ctx)
    check_orphans(ctx, every_foreign_key)
    check_leftover_batch_tables(ctx)
    if ctx.status.state == "behind":
        check_objects_already_exist(ctx)
        check_rehearsal(ctx, rehearse, rehearsal_limit_bytes)
    elif rehearse:
        ctx.skip("upgrade-will-fail", f"nothing to rehearse: the database is {ctx.status.state}", "")
    check_drift(ctx, drift)


# -- the code -------------------------------------------------------------------------


def check_heads(ctx: Context) -> None:
    ctx.ran("multiple-heads")
    for branch in BRANCHES:
        heads = ctx.graph.heads(branch)
        if len(heads) < 2:
            continue
        files = {rid: str(ctx.graph.revisions[rid].path) for rid in heads}
        newest, *others = sorted(heads, key=lambda rid: Path(files[rid]).stat().st_mtime, reverse=True)
        ctx.add(
            "multiple-heads",
            f"the {branch} branch of {ctx.env.describe()} has {len(heads)} heads: {', '.join(heads)}; "
            "`manage_db.sh upgrade` fails with \"Multiple head revisions are present for given argument 'gxy@head'\"",
            f'add a merge revision: `sh scripts/run_alembic.sh merge -m "merge {branch} heads" {" ".join(heads)}`\n'
            f'or re-parent the newer one: in {files[newest]} set down_revision = "{others[0]}"',
            {"branch": branch, "heads": heads, "files": files},
        )


# -- the version table, as Galaxy's startup judges it ------------------------------------


def check_existence(ctx: Context) -> bool:
    ctx.ran("database-missing")
    snapshot = ctx.snapshot
    where = str(ctx.db.sqlite_path) if ctx.db.is_sqlite else f"database {ctx.db.database_name!r}"
    if not snapshot.exists:
        ctx.add(
            "database-missing",
            f"{where} does not exist ({ctx.db})",
            "check the path/URL (`--db`, $RUNBOOK_DB_URL, database_connection in galaxy.yml); for a new "
            "Galaxy, start it or run `sh create_db.sh` to create and initialize the database",
            {"database": ctx.db.masked()},
        )
        return False
    ctx.ran("database-empty")
    if snapshot.is_empty:
        extra = sorted(snapshot.tables)
        ctx.add(
            "database-empty",
            f"{where} exists but has no Galaxy tables" + (f" (only {', '.join(extra)})" if extra else ""),
            "start Galaxy (it initializes an empty database) or run `sh create_db.sh`; "
            "`manage_db.sh` refuses to migrate it",
            {"tables": extra},
        )
        check_sessions(ctx)
        return False
    return True


def check_version_table(ctx: Context) -> None:
    ctx.ran("version-table")
    snapshot, status = ctx.snapshot, ctx.status
    if snapshot.alembic_rows is None:
        _no_alembic(ctx, snapshot)
        return
    if status.unknown:
        _unknown(ctx, status)
        return
    _missing_branches(ctx, snapshot, status)
    for name, branch in status.branches.items():
        if len(branch.current) > 1:
            _multiple_current(ctx, name, branch.current)
    multiple = any(len(b.current) > 1 for b in status.branches.values())
    if not multiple and status.state == "behind":
        pending = {name: b.pending for name, b in status.branches.items() if b.pending}
        parts = []
        for name, revs in pending.items():
            branch = status.branches[name]
            release = f" (release {branch.release})" if branch.release else ""
            parts.append(
                f"{name} at {_ids(branch.current) or '(none)'}{release}, code head {_ids(branch.heads)}: "
                f"{len(revs)} revision(s) pending ({_ids(revs, 3)})"
            )
        ctx.add(
            "database-behind",
            "; ".join(parts) + "; Galaxy refuses to start (OutdatedDatabaseError)",
            f"`{CLI} upgrade --rehearse`, then `{CLI} upgrade` (Galaxy: `sh manage_db.sh upgrade`)",
            {"pending": pending, "current": list(status.rows)},
        )


def _no_alembic(ctx: Context, snapshot: DatabaseSnapshot) -> None:
    if "migrate_version" in snapshot.tables:
        version = snapshot.migrate_version
        last = SQLALCHEMY_MIGRATE_LAST["gxy"]
        if version == last:
            ctx.add(
                "sqlalchemy-migrate-needs-alembic",
                f"under SQLAlchemy Migrate at version {version} (its last), no alembic_version: Galaxy raises "
                "SAMigrateError until the database is moved to Alembic",
                f"back up, then `sh manage_db.sh upgrade` (or `{CLI} upgrade`): Alembic takes over from version "
                f"{last} and runs every revision to head",
                {"migrate_version": version, "expected": last},
            )
        else:
            ctx.add(
                "sqlalchemy-migrate-wrong-version",
                f"under SQLAlchemy Migrate at version {version}, not {last}: Galaxy raises "
                "IncorrectSAMigrateVersionError (Alembic can only take over from version "
                f"{last} for gxy, {SQLALCHEMY_MIGRATE_LAST['tsi']} for tsi)",
                f"step 1: in a release_22.01 checkout, `sh manage_db.sh upgrade` (SQLAlchemy Migrate to version "
                f"{last}); step 2: with this code, `sh manage_db.sh upgrade` (Alembic to head)",
                {"migrate_version": version, "expected": last},
            )
        return
    tables = sorted(snapshot.tables)
    ctx.add(
        "no-version-table",
        f"{len(tables)} tables but no alembic_version or migrate_version table: Galaxy raises NoVersionTableError",
        "restore the database (or just alembic_version) from a backup; or, if the schema matches a revision "
        f"(check with `{CLI} troubleshoot --drift`), stamp it: `sh scripts/run_alembic.sh stamp REV` for gxy "
        "and tsi; if this is not a Galaxy database, point database_connection at the right one",
        {"tables": len(tables), "sample": tables[:SHOWN]},
    )


def _unknown(ctx: Context, status: Status) -> None:
    known_head = ctx.graph.heads("gxy")
    likely = (
        "a development branch (this is a checkout: another branch's revision)"
        if ctx.env.root is not None
        else "a newer Galaxy release (this is the released galaxy-data code)"
    )
    ctx.add(
        "unknown-revision",
        f"alembic_version holds {_ids(status.unknown)}, which no revision file of {ctx.env.describe()} has; "
        f"likely written by {likely}",
        f"run the Galaxy code that wrote it; to come back to this code, with that code run "
        f"`sh manage_db.sh downgrade {known_head[0] if known_head else 'REV'}` (this code's gxy head), "
        "then use this code",
        {"unknown": status.unknown, "rows": list(status.rows), "code_heads": known_head},
    )


def _missing_branches(ctx: Context, snapshot: DatabaseSnapshot, status: Status) -> None:
    if not status.branches["gxy"].current:
        heads = ctx.graph.heads("gxy")
        ctx.add(
            "revision-missing-for-branch",
            f"alembic_version has no gxy row (rows: {_ids(status.rows) or 'none'}) though the database has "
            f"{len(snapshot.tables)} tables: Galaxy raises RevisionNotFoundError",
            "restore alembic_version from a backup, or stamp the revision the schema is at "
            f"(at this code's head: `sh scripts/run_alembic.sh stamp {heads[0]}`; check with "
            f"`{CLI} troubleshoot --drift`)",
            {"branch": "gxy", "rows": list(status.rows)},
        )
    if not status.branches["tsi"].current and any(t in snapshot.tables for t in TSI_TABLES):
        ctx.add(
            "revision-missing-for-branch",
            "alembic_version has no tsi row though the tool-shed-install tables exist: Galaxy raises "
            "OutdatedDatabaseError for the tool shed install model",
            "`sh manage_db.sh upgrade` (stamps tsi at its head; its only revision changes nothing)",
            {"branch": "tsi", "rows": list(status.rows)},
        )


def _multiple_current(ctx: Context, branch: str, current: list[str]) -> None:
    graph = ctx.graph
    # The nearest revision above all of them (the merge that joins them), if any.
    joint = set.intersection(*(graph.descendants(rid) | {rid} for rid in current))
    merge = next((rid for rid in graph.in_order(branch) if rid in joint), None)
    side = [rid for rid in current if rid not in graph.ancestors([rid2 for rid2 in current if rid2 != rid])]
    ctx.add(
        "multiple-current-revisions",
        f"{len(current)} {branch} rows in alembic_version: {', '.join(current)} (a downgrade across a merge "
        f'leaves them; `downgrade -1` then fails and `upgrade +1` says "Ambiguous upgrade")',
        (
            f"go forward: `sh manage_db.sh upgrade {merge}` (the merge that joins them) or `sh manage_db.sh upgrade`; "
            if merge
            else ""
        )
        + f"or go back to one row: `{CLI} downgrade TARGET` undoes the side rows "
        f"(Galaxy: `sh manage_db.sh downgrade REV@-1` for each of {', '.join(side)})",
        {"branch": branch, "rows": current, "merge": merge},
    )


# -- who else is there ------------------------------------------------------------------


def check_sessions(ctx: Context) -> None:
    from runbooks.database.sessions import activity, terminate_statement

    ctx.ran("active-sessions")
    if ctx.db.is_sqlite:
        _sqlite_sessions(ctx)
        return
    ctx.ran("blocked-by-locks")
    sessions = activity(ctx.db).sessions
    if not sessions:
        return
    by_pid = {s.pid: s for s in sessions}
    waiting = [s for s in sessions if s.blocked_by]
    blockers = sorted({pid for s in waiting for pid in s.blocked_by})
    if waiting:
        lines, fixes = [], []
        for pid in blockers:
            holder = by_pid.get(pid)
            what = holder.describe() if holder else f"pid {pid} (another database's session)"
            age = ""
            if holder and holder.idle_in_transaction and holder.transaction_age_s is not None:
                age = f", transaction open {holder.transaction_age_s:.0f}s"
            lines.append(what + age)
            fixes.append(terminate_statement(pid))
        waiters = "; ".join(
            f"pid {s.pid} ({s.query[:80]}) waits for pid {', '.join(map(str, s.blocked_by))}" for s in waiting
        )
        ctx.add(
            "blocked-by-locks",
            f"{waiters}. Blocking: " + " | ".join(lines),
            f"stop the process behind pid {', '.join(map(str, blockers))} (a Galaxy handler or a forgotten psql?) "
            "or, if you choose to end it: " + " ".join(fixes),
            {
                "waiting": [s.pid for s in waiting],
                "blockers": blockers,
                "terminate": fixes,
                "sessions": [by_pid[p].describe() for p in blockers if p in by_pid],
            },
        )
        ctx.busy.append("sessions wait for locks")
    risky = [s for s in sessions if s.would_block_migration]
    if risky:
        ctx.busy.append(f"pid {', '.join(str(s.pid) for s in risky)} hold(s) locks or an open transaction")
    summary = f"{len(sessions)} other session(s) on {ctx.db.database_name}: pids {_ids([str(s.pid) for s in sessions])}"
    if risky:
        summary += "; would block a migration: " + "; ".join(
            f"pid {s.pid} {s.state}"
            + (f" for {s.state_age_s:.0f}s" if s.state_age_s is not None else "")
            + (f" holding locks on {', '.join(s.relation_locks)}" if s.relation_locks else "")
            for s in risky
        )
    ctx.add(
        "active-sessions",
        summary,
        "stop Galaxy (web, job handlers, workflow schedulers, celery workers) before migrating; a session that "
        "stays idle in transaction can be ended with " + " ".join(terminate_statement(s.pid) for s in risky[:3])
        if risky
        else "stop Galaxy (web, job handlers, workflow schedulers, celery workers) before migrating",
        {"sessions": [s.describe() for s in sessions], "would_block": [s.pid for s in risky]},
    )


def sqlite_openers(path: Path) -> list[tuple[int, str]]:
    """Other processes (of this user) with the SQLite file open: (pid, command line)."""
    target = str(Path(path).resolve())
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found.append((int(entry.name), " ".join(command.split())[:100]))
                    break
            except OSError:
                continue
    return sorted(found)


def _sqlite_sessions(ctx: Context) -> None:
    from runbooks.database.sessions import sqlite_locks

    ctx.ran("database-locked")
    path = ctx.db.sqlite_path
    locks = sqlite_locks(path)
    openers = sqlite_openers(path)
    if locks:
        writers = [lock for lock in locks if lock.kind in ("reserved", "pending")]
        pids = sorted({lock.pid for lock in locks})
        commands = {pid: cmd for pid, cmd in openers}
        who = "; ".join(
            f"pid {pid} holds a {' and '.join(lock.kind for lock in locks if lock.pid == pid)} lock"
            + (f" ({commands[pid]})" if pid in commands else "")
            for pid in pids
        )
        ctx.add(
            "database-locked",
            f"{path.name} is locked by another process: {who}" + ("" if writers else " (a reader's open transaction)"),
            f"stop the process (pid {', '.join(map(str, pids))}: a running Galaxy, a sqlite3 shell?) and migrate "
            'after it has ended; a migration now fails with "database is locked"',
            {"locks": [{"kind": lock.kind, "pid": lock.pid} for lock in locks]},
            severity="error" if writers else "warning",
        )
        ctx.busy.append("the file is locked")
    others = [(pid, cmd) for pid, cmd in openers if pid not in {lock.pid for lock in locks}]
    if others:
        ctx.add(
            "active-sessions",
            f"{len(others)} other process(es) have {path.name} open: "
            + "; ".join(f"pid {pid} ({cmd})" for pid, cmd in others[:SHOWN]),
            "stop Galaxy (and any sqlite3 shell) before migrating",
            {"processes": [{"pid": pid, "command": cmd} for pid, cmd in others]},
        )


# -- the data and the schema ------------------------------------------------------------


def check_orphans(ctx: Context, every_foreign_key: bool) -> None:
    from runbooks.database.orphans import find_orphans

    ctx.ran("foreign-key-orphans")
    result = find_orphans(ctx.db, every_key=every_foreign_key)
    if not result.orphans:
        return
    parts = [
        f"{o.key.table}.{','.join(o.key.columns)} -> {o.key.parent}: {o.count} row(s) ({o.sample_column} "
        + ", ".join(map(str, o.sample))
        + (" …" if o.count > len(o.sample) else "")
        + ")"
        for o in result.orphans
    ]
    ctx.add(
        "foreign-key-orphans",
        f"{result.total} orphan row(s) in {len(result.orphans)} of {result.checked} foreign keys checked: "
        + "; ".join(parts[:SHOWN])
        + (f"; and {len(parts) - SHOWN} more keys" if len(parts) > SHOWN else ""),
        "back up, review, then run (re-run the doctor afterwards: a DELETE can orphan other rows):\n"
        + "\n".join(o.cleanup for o in result.orphans),
        {
            "orphans": [o.to_json() for o in result.orphans],
            "keys_checked": result.checked,
            "keys_enforced_by_database": result.skipped_enforced,
        },
    )


def check_leftover_batch_tables(ctx: Context) -> None:
    leftovers = sorted(t for t in ctx.snapshot.tables if t.startswith("_alembic_tmp_"))
    if leftovers:
        ctx.add(
            "objects-already-exist",
            f"leftover table(s) of an interrupted SQLite batch migration: {', '.join(leftovers)}; the next "
            'revision that rebuilds the table stops with "table ... already exists"',
            "check they hold nothing you need, then: "
            + " ".join(f"DROP TABLE {t};" for t in leftovers)
            + " (`--repair` does not remove these)",
            {"tables": leftovers},
        )


def check_objects_already_exist(ctx: Context) -> None:
    from runbooks.code.objects import created_objects, schema_objects

    ctx.ran("objects-already-exist")
    pending = [rid for branch in ctx.status.branches.values() for rid in branch.pending]
    order = ctx.graph.in_order(among=set(pending))
    wanted = [obj for rid in order for obj in created_objects(ctx.graph.revisions[rid])]
    if not wanted:
        return
    # Tables a pending revision creates itself do not count as pre-existing for later objects on them.
    schema = schema_objects(ctx.db, {obj.table or obj.name for obj in wanted})
    existing = [obj for obj in wanted if schema.has(obj)]
    if not existing:
        return
    first = existing[0]
    repairable = all(obj.repairable for obj in existing)
    drops = [obj.drop_statement(ctx.db.dialect) for obj in existing]
    ctx.add(
        "objects-already-exist",
        "; ".join(f"{obj.revision} creates {obj.describe()}, which already exists" for obj in existing[:SHOWN])
        + f": the upgrade would stop at {first.revision}",
        f"if the leftover holds nothing you need: {' '.join(drops)} then `{CLI} upgrade`; "
        + (
            "or skip them with Galaxy's `sh scripts/db_dev.sh upgrade --repair` (it skips a helper's object that "
            "already exists, without checking it matches the revision; leftovers of SQLite batch operations still "
            "fail)"
            if repairable
            else "`--repair` does not help here: the revision calls op.* directly, without Galaxy's existence checks"
        ),
        {
            "objects": [
                {"revision": o.revision, "kind": o.kind, "name": o.name, "table": o.table, "repairable": o.repairable}
                for o in existing
            ],
            "drop": drops,
        },
    )


def _database_bytes(db: DatabaseUrl) -> int:
    if db.is_sqlite:
        return db.sqlite_path.stat().st_size
    with read_only_cursor(db, "galaxy-runbooks-doctor") as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def check_rehearsal(ctx: Context, rehearse: bool | None, limit: int) -> None:
    from runbooks.doctor.failures import diagnose
    from runbooks.migrate import make_plan
    from runbooks.rehearsal import rehearse as run_rehearsal

    if rehearse is False:
        ctx.skip("upgrade-will-fail", "rehearsal turned off", "drop --no-rehearse to rehearse the upgrade")
        return
    if "multiple-heads" in ctx.report.codes:
        ctx.skip("upgrade-will-fail", "the code has several heads: no single upgrade target", "merge the heads first")
        return
    if ctx.busy:
        ctx.skip(
            "upgrade-will-fail",
            f"copying the database now would wait: {', '.join(ctx.busy)}",
            "rerun after the other sessions have ended",
        )
        return
    size = _database_bytes(ctx.db)
    if rehearse is None and size > limit:
        ctx.skip(
            "upgrade-will-fail",
            f"the database is {size / 1024**3:.1f} GiB; a rehearsal copies it",
            "add --rehearse to rehearse anyway",
        )
        return
    ctx.ran("upgrade-will-fail")
    plan = make_plan(ctx.graph, ctx.status.rows, "head", "upgrade")
    rehearsal = run_rehearsal(ctx.db, plan, ctx.env)
    if rehearsal.succeeded:
        return
    outcome = rehearsal.outcome
    error = outcome.errors[0] if outcome.errors else f"alembic_version ended at {', '.join(outcome.rows)}"
    cause = diagnose(outcome.errors, ctx.db.dialect)
    where = outcome.stopped_at or _revision_named_by(error, ctx) or "the first revision"
    if set(outcome.rows) == set(ctx.status.rows) and not ctx.db.is_sqlite:
        where += " (PostgreSQL ran the upgrade in one transaction: nothing was applied)"
    ctx.add(
        "upgrade-will-fail",
        f"rehearsing the upgrade to head on a {rehearsal.copy_method} stopped at {where}: "
        f"{error.splitlines()[0]}" + (f" ({cause.cause})" if cause else ""),
        (cause.fix if cause else f"read the error above; `{CLI} upgrade --rehearse` shows every statement")
        + f"; then `{CLI} upgrade --rehearse` again",
        {
            "stopped_at": outcome.stopped_at,
            "errors": outcome.errors,
            "reached_rows": list(outcome.rows),
            "cause": cause.cause if cause else None,
        },
    )


def _revision_named_by(error: str, ctx: Context) -> str | None:
    """The pending revision whose object the error names (when the log does not say where it stopped)."""
    from runbooks.code.objects import created_objects

    pending = [rid for branch in ctx.status.branches.values() for rid in branch.pending]
    for rid in ctx.graph.in_order(among=set(pending)):
        for obj in created_objects(ctx.graph.revisions[rid]):
            if f'"{obj.name}"' in error or f": {obj.name}" in error or f" {obj.name} " in error:
                return f"{rid} ({ctx.graph.revisions[rid].message})"
    return None


def check_drift(ctx: Context, drift: bool) -> None:
    state = ctx.status.state
    if not drift:
        ctx.skip("schema-drift", "it imports Galaxy's model (seconds)", "add --drift to compare the schema")
        return
    if state not in ("up-to-date", "no-version-table", "revision-missing"):
        ctx.skip(
            "schema-drift",
            f"the database is {state}: pending revisions would show as drift",
            "upgrade first, then --drift",
        )
        return
    from runbooks.galaxy.commands import model_drift

    ctx.ran("schema-drift")
    report = model_drift(ctx.db, ctx.env)
    if report.clean:
        for item in ctx.report.findings:
            if item.code in ("no-version-table", "revision-missing-for-branch"):
                heads = " ".join(ctx.graph.heads())
                item.fix += f"; the schema matches this code's head exactly: `sh scripts/run_alembic.sh stamp {heads}`"
                item.details["schema_matches_head"] = True
        return
    grouped = report.by_table()
    ctx.add(
        "schema-drift",
        f"{len(report.differences)} difference(s) from Galaxy's models in {len(grouped)} table(s): "
        + "; ".join(
            f"{table}: " + ", ".join(d.describe() for d in items[:3]) for table, items in list(grouped.items())[:SHOWN]
        ),
        "find who changed the schema (a manual fix, a dev branch's revision later removed); make it match "
        "the model (or restore a backup), then `troubleshoot --drift` again",
        {
            "by_table": {t: [d.describe() for d in items] for t, items in grouped.items()},
            "ignored": len(report.ignored),
        },
        severity="warning" if state == "up-to-date" else "info",
    )
