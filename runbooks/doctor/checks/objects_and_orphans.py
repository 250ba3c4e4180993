"""The data and the schema: foreign-key orphans and objects a pending revision would create again."""

from __future__ import annotations

from runbooks.doctor.checks.examination import SHOWN, Examination
from runbooks.paths import CLI


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
            "check they hold nothing you need, then: "
            + " ".join(f"DROP TABLE {t};" for t in leftovers)
            + " (`--repair` does not remove these)",
            {"tables": leftovers},
        )


def check_objects_already_exist(ex: Examination) -> None:
    from runbooks.code.objects import created_objects, schema_objects

    ex.ran("objects-already-exist")
    pending = [rid for branch in ex.status.branches.values() for rid in branch.pending]
    order = ex.graph.in_order(among=set(pending))
    wanted = [obj for rid in order for obj in created_objects(ex.graph.revisions[rid])]
    if not wanted:
        return
    # Tables a pending revision creates itself do not count as pre-existing for later objects on them.
    schema = schema_objects(ex.db, {obj.table or obj.name for obj in wanted})
    existing = [obj for obj in wanted if schema.has(obj)]
    if not existing:
        return
    first = existing[0]
    repairable = all(obj.repairable for obj in existing)
    drops = [obj.drop_statement(ex.db.dialect) for obj in existing]
    ex.add(
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
