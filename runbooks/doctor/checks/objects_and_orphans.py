"""The data and the schema: foreign-key orphans and objects a pending revision would create again."""

from __future__ import annotations

from runbooks.doctor.checks.examination import SHOWN, Examination


def check_orphans(ex: Examination, every_foreign_key: bool) -> None:
    from runbooks.database.orphans import find_orphans

    ex.ran("foreign-key-orphans")
    result = find_orphans(ex.db, every_key=every_foreign_key)
    if not result.orphans:
        return
    parts = [
        f"{o.key.table}.{','.join(o.key.columns)} -> {o.key.parent}: {o.count} row(s) ({o.sample_column} "
        + ", ".join(map(str, o.sample))
        + (" …" if o.count > len(o.sample) else "")
        + ")"
        for o in result.orphans
    ]
    ex.add(
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


def check_leftover_batch_tables(ex: Examination) -> None:
    leftovers = sorted(t for t in ex.snapshot.tables if t.startswith("_alembic_tmp_"))
    if leftovers:
        ex.add(
            "objects-already-exist",
            f"leftover table(s) of an interrupted SQLite batch migration: {', '.join(leftovers)}; the next "
            'revision that rebuilds the table stops with "table ... already exists"',
            "see what they hold (" + " ".join(f"SELECT count(*) FROM {t};" for t in leftovers) + "); when an "
            "upgrade is pending the doctor rehearses it and gives the statement that removes them once a rehearsal "
            "with it applied reached the target (`--repair` does not remove these)",
            {"tables": leftovers},
            severity="warning",
        )


def find_existing_objects(ex: Examination) -> list:
    """Objects pending revisions create, unguarded, that the database already has (a prediction, not a verdict)."""
    from runbooks.code.objects import created_objects, schema_objects

    ex.ran("objects-already-exist")
    pending = [rid for branch in ex.status.branches.values() for rid in branch.pending]
    order = ex.graph.in_order(among=set(pending))
    # A revision that checks first (`if not column_exists(...)`) skips what exists: no prediction for it.
    wanted = [obj for rid in order for obj in created_objects(ex.graph.revisions[rid]) if not obj.guarded]
    if not wanted:
        return []
    # Tables a pending revision creates itself do not count as pre-existing for later objects on them.
    schema = schema_objects(ex.db, {obj.table or obj.name for obj in wanted})
    return [obj for obj in wanted if schema.has(obj)]


def _later_fix(ex: Examination, existing: list) -> str:
    """The newer Galaxy that fixed the revision (it checks first), when the installed package is one."""
    from runbooks.code.later_fixes import fixed_in_package, installed_release

    if ex.env.root is None or not all(fixed_in_package(obj, ex.env) for obj in existing):
        return ""
    from runbooks.tasks.printed_commands import DatabaseArgs, command_line

    label = ex.graph.release_label(ex.graph.heads("gxy")) or ""
    target = [label] if label and "+" not in label else [*ex.graph.heads("gxy")]
    named = ex.database or DatabaseArgs(ex.db)
    package_code = DatabaseArgs(named.db or ex.db, None, named.from_environment)  # same database, no checkout
    how = f"`{command_line('upgrade', *target, database=package_code)}`"
    return (
        f"a later Galaxy fixed this: {existing[0].revision} in galaxy-data {installed_release()} (installed with "
        f"the runbooks) checks for the object first; upgrade with that code (without --galaxy-root): {how}, "
        "or deploy a Galaxy release with the fix; nothing needs dropping"
    )


def report_existing_objects(ex: Examination, existing: list, verdict) -> None:
    """One finding whose severity is the rehearsal's: error only where it stopped; DROP only when proven."""
    if not existing:
        return
    seen = "; ".join(f"{obj.revision} creates {obj.describe()}, which already exists" for obj in existing[:SHOWN])
    repair = (
        "Galaxy's `sh scripts/db_dev.sh upgrade --repair` skips a helper's object that already exists (without "
        "checking it matches the revision; leftovers of SQLite batch operations still fail)"
        if all(obj.repairable for obj in existing)
        else "`--repair` does not help here: the revision calls op.* directly, without Galaxy's existence checks"
    )
    proof = verdict.proof if verdict is not None and verdict.fix_from_objects else None
    proven = proof is not None and proof.proven
    if verdict is None:
        severity, summary = "warning", f"{seen}: the upgrade may stop at {existing[0].revision} (not rehearsed)"
        fix = f"rehearse it on a copy to know: {ex.cli('troubleshoot', '--rehearse')}; {repair}"
    elif verdict.succeeded:
        severity, summary = "info", f"{seen}, yet the rehearsal on a copy reached the target past it"
        fix = "nothing to do for the upgrade"
    elif any(obj.revision == verdict.failed_revision for obj in existing):
        severity, summary = "error", f"{seen}: the rehearsal stopped at {verdict.failed_revision}"
        if proven:
            fix = f"back up, then run: {' '.join(proof.statements)} ({proof.describe()}); then {ex.cli('upgrade')}"
        else:
            fix = "no statement is given" + (f" ({proof.describe()})" if proof else "")
        fix += f"; or {repair}"
    else:
        severity = "warning"
        summary = f"{seen}; the rehearsal stopped elsewhere ({verdict.failed_revision}): see upgrade-will-fail"
        fix = f"fix what upgrade-will-fail names first, then {ex.cli('troubleshoot')} again"
    later = _later_fix(ex, existing) if severity != "info" else ""
    fix = f"{later}; otherwise: {fix}" if later else fix
    ex.add(
        "objects-already-exist",
        summary,
        fix,
        {
            "objects": [
                {"revision": o.revision, "kind": o.kind, "name": o.name, "table": o.table, "repairable": o.repairable}
                for o in existing
            ],
            "drop": list(proof.statements) if proven else [],
            "proven": proven,
        },
        severity=severity,
    )
