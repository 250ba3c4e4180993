"""The code's heads and the version table, as Galaxy's startup and ``manage_db.sh`` judge them."""

from __future__ import annotations

import shlex
from pathlib import Path

from runbooks.code.environment import BRANCHES
from runbooks.code.revisions import release_key
from runbooks.database.connections import DatabaseSnapshot
from runbooks.doctor.checks.examination import SHOWN, Examination, shown_ids
from runbooks.tasks import legacy_plan
from runbooks.tasks.printed_commands import command_line
from runbooks.tasks.schema_revision import schema_revision
from runbooks.tasks.status import SQLALCHEMY_MIGRATE_LAST, Status

TSI_TABLES = ("tool_shed_repository", "tool_dependency", "tool_version")


# -- the code -------------------------------------------------------------------------


def check_heads(ex: Examination) -> None:
    ex.ran("multiple-heads")
    for branch in BRANCHES:
        heads = ex.graph.heads(branch)
        if len(heads) < 2:
            continue
        files = {rid: str(ex.graph.revisions[rid].path) for rid in heads}
        newest, *others = sorted(heads, key=lambda rid: Path(files[rid]).stat().st_mtime, reverse=True)
        ex.add(
            "multiple-heads",
            f"the {branch} branch of {ex.env.describe()} has {len(heads)} heads: {', '.join(heads)}; "
            "`manage_db.sh upgrade` fails with \"Multiple head revisions are present for given argument 'gxy@head'\"",
            f'add a merge revision: `sh scripts/run_alembic.sh merge -m "merge {branch} heads" {" ".join(heads)}`\n'
            f'or re-parent the newer one: in {files[newest]} set down_revision = "{others[0]}"',
            {"branch": branch, "heads": heads, "files": files},
        )


# -- the version table, as Galaxy's startup judges it ------------------------------------


def check_existence(ex: Examination) -> bool:
    ex.ran("database-missing")
    snapshot = ex.snapshot
    where = str(ex.db.sqlite_path) if ex.db.is_sqlite else f"database {ex.db.database_name!r}"
    if not snapshot.exists:
        ex.add(
            "database-missing",
            f"{where} does not exist ({ex.db})",
            "check the path/URL (`--db`, $RUNBOOK_DB_URL, database_connection in galaxy.yml); for a new "
            "Galaxy, start it or run `sh create_db.sh` to create and initialize the database",
            {"database": ex.db.masked()},
        )
        return False
    ex.ran("database-damaged")
    if snapshot.damage:
        ex.add(
            "database-damaged",
            f"{where} cannot be read whole ({snapshot.damage})",
            f"restore the latest backup ({ex.cli('restore', 'BACKUP')}); to salvage what is readable: "
            f"`sqlite3 {shlex.quote(where)} .recover | sqlite3 recovered.sqlite`, then "
            f"`{command_line('troubleshoot', '--db', 'sqlite:///recovered.sqlite')}`",
            {"damage": snapshot.damage},
        )
        return False
    ex.ran("database-empty")
    if snapshot.is_empty:
        extra = sorted(snapshot.tables)
        ex.add(
            "database-empty",
            f"{where} exists but has no Galaxy tables" + (f" (only {', '.join(extra)})" if extra else ""),
            "run `sh manage_db.sh init` (or start Galaxy once, in one process): it creates the tables and stamps "
            "the heads; not `manage_db.sh upgrade`, which does not refuse it (on SQLite it exits 0 leaving only "
            "version rows)",
            {"tables": extra},
        )
        return False
    return True


def check_version_table(ex: Examination) -> None:
    ex.ran("version-table")
    snapshot, status = ex.snapshot, ex.status
    if snapshot.bad_version_rows:
        _invalid_rows(ex, snapshot)
        return
    if snapshot.alembic_rows is None:
        _no_alembic(ex, snapshot)
        return
    if status.unknown:
        _unknown(ex, status)
        return
    if status.skipped_migrate:
        _skipped_migrate(ex, status)
    _missing_branches(ex, snapshot, status)
    for name, branch in status.branches.items():
        if len(branch.current) > 1:
            _multiple_current(ex, name, branch.current, status.rows)
    multiple = any(len(b.current) > 1 for b in status.branches.values())
    if not multiple and status.state == "behind":
        pending = {name: b.pending for name, b in status.branches.items() if b.pending}
        parts = []
        for name, revs in pending.items():
            branch = status.branches[name]
            release = f" (release {branch.release})" if branch.release else ""
            parts.append(
                f"{name} at {shown_ids(branch.current) or '(none)'}{release}, code head {shown_ids(branch.heads)}: "
                f"{len(revs)} revision(s) pending ({shown_ids(revs, 3)})"
            )
        fix = f"{ex.cli('upgrade', '--rehearse')}, then {ex.cli('upgrade')} (Galaxy: `sh manage_db.sh upgrade`)"
        several = [name for name, b in status.branches.items() if len(b.heads) > 1]
        if several:  # the upgrade refuses until then: "merge them first"
            fix = f"merge the code's {' and '.join(several)} heads first (see multiple-heads); then {fix}"
        ex.add(
            "database-behind",
            "; ".join(parts) + "; Galaxy refuses to start (OutdatedDatabaseError)",
            fix,
            {"pending": pending, "current": list(status.rows)},
        )


def _invalid_rows(ex: Examination, snapshot: DatabaseSnapshot) -> None:
    bad = snapshot.bad_version_rows
    ex.add(
        "invalid-version-rows",
        f"alembic_version holds {len(bad)} row(s) that are not revision ids: "
        + "; ".join(row.describe() for row in bad)
        + f" (revision ids: {', '.join(snapshot.alembic_rows) or 'none'}); Galaxy's migrations cannot start from it",
        "back up the database, then fix exactly these rows: " + " ".join(row.fix_sql for row in bad),
        {"rows": [row.to_json() for row in bad], "revision_ids": list(snapshot.alembic_rows or ())},
    )


def _plan(ex: Examination) -> str:
    return "the releases to step through, in order:\n" + "\n".join(
        legacy_plan.lines_for(ex.status, ex.graph, ex.database)
    )


def _skipped_migrate(ex: Examination, status: Status) -> None:
    ex.add(
        "sqlalchemy-migrate-skipped",
        legacy_plan.skipped_summary(status),
        _plan(ex) + f"\nwithout that backup, list what is missing with {ex.cli('troubleshoot', '--drift')}",
        {
            "migrate_version": status.legacy_migrate_version,
            "expected": SQLALCHEMY_MIGRATE_LAST["gxy"],
            "alembic_version": list(status.rows),
            "plan": legacy_plan.lines_for(status, ex.graph, ex.database),
        },
    )


def _no_alembic(ex: Examination, snapshot: DatabaseSnapshot) -> None:
    if "migrate_version" in snapshot.tables:
        version = snapshot.migrate_version
        last = SQLALCHEMY_MIGRATE_LAST[ex.only[0]]  # a separate install database's Migrate ended at tsi's last
        if version == last:
            ex.add(
                "sqlalchemy-migrate-needs-alembic",
                f"under SQLAlchemy Migrate at version {version} (its last), no alembic_version: Galaxy raises "
                "SAMigrateError until the database is moved to Alembic",
                f"back up, then `sh manage_db.sh upgrade` (or {ex.cli('upgrade')}): Alembic takes over from version "
                f"{last} and runs every revision to head",
                {"migrate_version": version, "expected": last},
            )
        else:
            ex.add(
                "sqlalchemy-migrate-wrong-version",
                f"under SQLAlchemy Migrate at version {version}, not {last}: Galaxy raises "
                "IncorrectSAMigrateVersionError (Alembic can only take over from version "
                f"{last} for gxy, {SQLALCHEMY_MIGRATE_LAST['tsi']} for tsi)",
                _plan(ex),
                {
                    "migrate_version": version,
                    "expected": last,
                    "plan": legacy_plan.lines_for(ex.status, ex.graph, ex.database),
                },
            )
        return
    tables = sorted(snapshot.tables)
    ex.add(
        "no-version-table",
        f"{len(tables)} tables but no alembic_version or migrate_version table: Galaxy raises NoVersionTableError",
        "restore the database (or just alembic_version) from a backup; or, if the schema matches a revision "
        f"(check with {ex.cli('troubleshoot', '--drift')}), stamp it: `sh scripts/run_alembic.sh stamp REV` for gxy "
        "and tsi; if this is not a Galaxy database, point database_connection at the right one",
        {"tables": len(tables), "sample": tables[:SHOWN]},
    )


def _unknown(ex: Examination, status: Status) -> None:
    known_head = ex.graph.heads("gxy")
    likely = (
        "a development branch (this is a checkout: another branch's revision)"
        if ex.env.root is not None
        else "a newer Galaxy release (this is the released galaxy-data code)"
    )
    ex.add(
        "unknown-revision",
        f"alembic_version holds {shown_ids(status.unknown)}, which no revision file of {ex.env.describe()} has; "
        f"likely written by {likely}",
        _way_back(ex, known_head[0] if known_head else "REV"),
        {"unknown": status.unknown, "rows": list(status.rows), "code_heads": known_head},
    )


def _way_back(ex: Examination, head: str) -> str:
    """Back to this code with the code that wrote the rows: this tool's downgrade, which undoes side branches."""
    return (
        f"run the Galaxy code that wrote it; to come back to this code, run {ex.cli('downgrade', head)} (this "
        "code's gxy head) with that code (`--galaxy-root` its checkout, or with the galaxy-data release that wrote "
        "it installed): it also undoes the side branches of merges it crosses, so only revisions this code has "
        f"remain; Galaxy's own `sh manage_db.sh downgrade {head}` keeps a side branch's row, which this code "
        "cannot read"
    )


def _missing_branches(ex: Examination, snapshot: DatabaseSnapshot, status: Status) -> None:
    if "gxy" in status.branches and not status.branches["gxy"].current:
        heads = ex.graph.heads("gxy")
        ex.add(
            "revision-missing-for-branch",
            f"alembic_version has no gxy row (rows: {shown_ids(status.rows) or 'none'}) though the database has "
            f"{len(snapshot.tables)} tables: Galaxy raises RevisionNotFoundError",
            _stamp_advice(ex, heads[0]),
            {"branch": "gxy", "rows": list(status.rows)},
        )
    tsi = status.branches.get("tsi")
    if tsi is not None and not tsi.current and any(t in snapshot.tables for t in TSI_TABLES):
        ex.add(
            "revision-missing-for-branch",
            "alembic_version has no tsi row though the tool-shed-install tables exist: Galaxy raises "
            "OutdatedDatabaseError for the tool shed install model",
            "`sh manage_db.sh upgrade` (stamps tsi at its head; its only revision changes nothing)",
            {"branch": "tsi", "rows": list(status.rows)},
        )


def _stamp_advice(ex: Examination, head: str) -> str:
    """Stamping marks revisions applied: the head only when the schema has what every revision creates."""
    found = schema_revision(ex.db, ex.graph)
    check = f"check with {ex.cli('troubleshoot', '--drift')}"
    if not found.absent:
        return (
            "restore alembic_version from a backup, or stamp the revision the schema is at (it has every table and "
            f"column this code's revisions create: `sh scripts/run_alembic.sh stamp {head}`; {check})"
        )
    examples = ", ".join(found.absent[:3])
    if found.revision is None and found.proven:
        return (
            f"do not stamp: the schema is Galaxy's base (what `downgrade base` leaves), without any of the "
            f"{found.wanted} tables and columns the gxy revisions create (e.g. {examples}); a stamp would mark them "
            f"applied. Upgrade it from base instead: {ex.cli('upgrade')} (Galaxy's `sh manage_db.sh upgrade` runs "
            "every revision from base), or restore the backup taken before it was moved to base"
        )
    return (
        f"do not stamp the head ({head}): {len(found.absent)} of the {found.wanted} tables and columns the gxy "
        f"revisions create are not there (e.g. {examples}); restore alembic_version from a backup"
        + (
            f", or stamp {found.revision}, the newest revision whose tables and columns are all there"
            if found.proven
            else ""
        )
        + f"; {check}"
    )


def _multiple_current(ex: Examination, branch: str, current: list[str], rows: tuple[str, ...]) -> None:
    graph = ex.graph
    stale = [(old, new) for old in current for new in current if old != new and old in graph.ancestors([new])]
    if stale:
        return _contradicting_rows(ex, branch, current, stale[0])
    # The nearest revision above all of them (the merge that joins them), if any.
    joint = set.intersection(*(graph.descendants(rid) | {rid} for rid in current))
    merge = next((rid for rid in graph.in_order(branch) if rid in joint), None)
    ex.add(
        "multiple-current-revisions",
        f"{len(current)} {branch} rows in alembic_version: {', '.join(current)} (a downgrade across a merge "
        f'leaves them; `downgrade -1` then fails and `upgrade +1` says "Ambiguous upgrade")',
        (
            f"go forward: `sh manage_db.sh upgrade {merge}` (the merge that joins them) or `sh manage_db.sh upgrade`; "
            if merge
            else ""
        )
        + _back_to_one_row(ex, branch, current, rows),
        {"branch": branch, "rows": current, "merge": merge},
    )


def _contradicting_rows(ex: Examination, branch: str, current: list[str], pair: tuple[str, str]) -> None:
    """A row and its own descendant: not a merge's side branches, and no Alembic command walks from both."""
    old, new = pair
    ex.add(
        "multiple-current-revisions",
        f"{len(current)} {branch} rows in alembic_version: {', '.join(current)}; {old} is an ancestor of {new}, so "
        "they contradict each other (a stamp or an edit by hand, not a merge): Alembic's upgrade and downgrade "
        "fail on them",
        f"find the revision the schema is at ({ex.cli('troubleshoot', '--drift')}), back up, then delete the other "
        f"row: at {new}, `DELETE FROM alembic_version WHERE version_num = '{old}';`; at {old}, "
        f"`DELETE FROM alembic_version WHERE version_num = '{new}';`",
        {"branch": branch, "rows": current, "ancestor": old, "descendant": new, "merge": None},
    )


def _back_to_one_row(ex: Examination, branch: str, current: list[str], rows: tuple[str, ...]) -> str:
    """The way back to the release a row is tagged with: this tool's command and Galaxy's own steps.

    Galaxy's steps are the plan's: ``REV@-1`` for each revision of the side branches, newest first
    (not one per row: the tagged row stays, and a side branch may hold several revisions).
    """
    from runbooks.tasks.migrate import make_plan

    tags = ex.graph.tags_by_revision()
    tagged = [(max(tags[rid], key=release_key), rid) for rid in current if rid in tags]
    if branch != "gxy" or not tagged:
        return f"or go back to one row: {ex.cli('downgrade', 'REV')} with the row you want to keep undoes the others"
    release, keep = max(tagged, key=lambda pair: release_key(pair[0]))
    steps = [call.shell() for call in make_plan(ex.graph, rows, release, "downgrade").calls[1:]]
    galaxy = f" (Galaxy's own steps: {'; '.join(f'`sh {step}`' for step in steps)})" if steps else ""
    return f"or go back to release {release} ({keep}): {ex.cli('downgrade', release)} undoes the side rows{galaxy}"
