"""Views the database has against what the applied revisions made them from (Galaxy issue 15701)."""

from __future__ import annotations

from runbooks.doctor.checks.examination import Examination


def check_views(ex: Examination) -> None:
    """A view whose columns differ from the query its last applied revision made it from is stale."""
    from runbooks.code.views import views_left
    from runbooks.database.view_columns import columns_of, database_views

    present = database_views(ex.db)
    if not present:
        return
    ex.ran("views")
    applied = ex.graph.in_order(among=ex.graph.ancestors(ex.status.rows))
    expected = {name: state for name, state in views_left(ex.graph, applied, ex.db.dialect).items() if name in present}
    made = {name: state for name, state in expected.items() if state.query is not None}
    if not made:
        return
    names = sorted(made)
    found = columns_of(ex.db, [f"SELECT * FROM {name}" for name in names] + [made[n].query for n in names])
    for name, have, want in zip(names, found[: len(names)], found[len(names) :], strict=True):
        if have is None or want is None or have == want:
            continue
        _report_stale(ex, made[name], have, want)


def _report_stale(ex: Examination, state, have: list[str], want: list[str]) -> None:
    missing = [column for column in want if column not in have]
    extra = [column for column in have if column not in want]
    pending = [rid for branch in ex.status.branches.values() for rid in branch.pending]
    later = [rid for rid in pending if state.name in _text(ex, rid)]
    summary = (
        f"view {state.name} differs from what {state.revision} (applied) makes it"
        + (f": it lacks {', '.join(missing)}" if missing else "")
        + (f"; it has {', '.join(extra)} besides" if extra else "")
        + " (left from before that revision); Galaxy's queries on it fail"
    )
    if later:
        fix = f"upgrade: pending revision(s) {', '.join(later)} drop or re-make it: {ex.cli('upgrade')}"
    else:
        fix = f"re-create it as {state.revision} does (its upgrade(): DROP VIEW, then CREATE VIEW ... AS its query)"
    ex.add(
        "schema-differs-from-revision",
        summary,
        fix,
        {"view": state.name, "revision": state.revision, "missing": missing, "extra": extra},
    )


def _text(ex: Examination, rid: str) -> str:
    return ex.graph.revisions[rid].path.read_text(encoding="utf-8", errors="replace")
