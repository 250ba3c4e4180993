"""Only when asked: the schema against Galaxy's models (imports ``galaxy.model``)."""

from __future__ import annotations

from runbooks.doctor.checks.examination import SHOWN, Examination


def check_drift(ex: Examination, drift: bool) -> None:
    state = ex.status.state
    if not drift:
        ex.skip("schema-drift", "it imports Galaxy's model (seconds)", "add --drift to compare the schema")
        return
    if state not in ("up-to-date", "no-version-table", "revision-missing"):
        ex.skip(
            "schema-drift",
            f"the database is {state}: pending revisions would show as drift",
            "upgrade first, then --drift",
        )
        return
    from runbooks.galaxy.commands import model_drift

    ex.ran("schema-drift")
    report = model_drift(ex.db, ex.env)
    if report.clean:
        for item in ex.report.findings:
            if item.code in ("no-version-table", "revision-missing-for-branch"):
                heads = " ".join(ex.graph.heads())
                item.fix += f"; the schema matches this code's head exactly: `sh scripts/run_alembic.sh stamp {heads}`"
                item.details["schema_matches_head"] = True
        return
    grouped = report.by_table()
    ex.add(
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
