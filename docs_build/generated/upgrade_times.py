"""``<!-- generated: upgrade-times -->``: the committed scale measurements (bench/results) as tables."""

from __future__ import annotations

import json

from docs_build.generated.charts import copy_time_chart, revision_time_chart
from docs_build.generated.scale_results import RESULTS, scale_runs

_runs = scale_runs


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB"


def summary_table(runs: list[dict]) -> list[str]:
    lines = [
        "| scale | jobs | datasets | database | Galaxy's command | its migrations | ours | ours / Galaxy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        galaxy, ours = run["galaxy"], run["ours"]
        lines.append(
            f"| {run['scale']} | {run['generator']['jobs']:,} | {run['generator']['rows']['dataset']:,} "
            f"| {_mb(run['generator']['bytes'])} | {galaxy['wall_s']:.1f}s | {galaxy['migrations_s']:.2f}s "
            f"| {ours['wall_s']:.1f}s | {run['ratios']['ours_to_galaxy']:.2f} |"
        )
    return lines


def blocks_table(runs: list[dict]) -> list[str]:
    """The longest a reader (``select``) and a writer (``update``) of ``job`` waited, during each run."""
    lines = [
        "| scale | reader, Galaxy's command | writer, Galaxy's command | reader, ours | writer, ours |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in runs:
        galaxy, ours = run["galaxy"]["longest_block_s"], run["ours"]["longest_block_s"]
        lines.append(
            f"| {run['scale']} | {galaxy['select job']:.2f}s | {galaxy['update job']:.2f}s "
            f"| {ours['select job']:.2f}s | {ours['update job']:.2f}s |"
        )
    return lines


def copies_table(runs: list[dict]) -> list[str]:
    lines = [
        "| scale | database | rehearsal | rehearsal / upgrade | copy, `WAL_LOG` | copy, `FILE_COPY` |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        copy = run["rehearsal_copy"]
        lines.append(
            f"| {run['scale']} | {_mb(run['generator']['bytes'])} | {run['rehearsal']['wall_s']:.1f}s "
            f"| {run['ratios']['rehearsal_to_upgrade']:.2f} | {copy['wal_log_s']:.1f}s | {copy['file_copy_s']:.1f}s |"
        )
    return lines


def backups_table(runs: list[dict]) -> list[str]:
    lines = ["| scale | database | backup (`pg_dump`) | dump | restore (`pg_restore`) |", "|---|---:|---:|---:|---:|"]
    for run in runs:
        backup = run["backup"]
        lines.append(
            f"| {run['scale']} | {_mb(run['generator']['bytes'])} | {backup['backup_s']:.1f}s "
            f"| {_mb(backup['dump_bytes'])} | {backup['restore_s']:.1f}s |"
        )
    return lines


def proportion_lines(runs: list[dict]) -> list[str]:
    """Per scale, the child rows per job where they differ from the generator's defaults."""
    lines = []
    for run in runs:
        rows, jobs = run["generator"]["rows"], run["generator"]["jobs"]
        per_job = ", ".join(
            f"{table} {rows[table] / jobs:.1f}"
            for table in ("dataset", "history_dataset_association", "job_to_input_dataset", "job_parameter")
            + ("job_metric_numeric", "job_metric_text", "dataset_collection_element")
        )
        lines.append(f"- {run['scale']}: rows per job: {per_job}")
    return lines


def _locked(locks: list[str]) -> tuple[str, str]:
    """The forecast's ``table (Mode)`` locks as (tables readers wait for, tables only writers wait for)."""
    strongest: dict[str, bool] = {}
    for lock in locks:
        table, _, mode = lock.partition(" (")
        strongest[table] = strongest.get(table, False) or mode.startswith("AccessExclusive")
    readers = ", ".join(f"`{t}`" for t, exclusive in strongest.items() if exclusive)
    writers = ", ".join(f"`{t}`" for t, exclusive in strongest.items() if not exclusive)
    return readers or "—", writers or "—"


def revision_table(runs: list[dict]) -> list[str]:
    """Each revision's time at each scale, then the tables its locks block (the forecast's cost model)."""
    from runbooks.tasks.forecast import load_model

    model = load_model()["revisions"]
    names = [run["scale"] for run in runs]
    lines = ["| revision | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    locks = []
    for index, rev in enumerate(runs[-1]["galaxy"]["revisions"]):
        times = [f"{run['galaxy']['revisions'][index]['seconds']:.3f}s" for run in runs]
        lines.append(f"| `{rev['revision']}` | " + " | ".join(times) + " |")
        readers, writers = _locked(model.get(rev["revision"], {}).get("locks", []))
        blocked = [f"{who} of {tables}" for who, tables in (("readers and writers", readers), ("writers", writers))]
        blocked = [text for text in blocked if not text.endswith("—")]
        if blocked:
            locks.append(f"- `{rev['revision']}` blocks " + "; ".join(blocked))
    return [*lines, "", "The tables each revision's locks block:", "", *locks]


def forecast_lines() -> list[str]:
    path = RESULTS / "forecast_check.json"
    if not path.is_file():
        return ["No held-out check has been committed yet."]
    check = json.loads(path.read_text())
    lines = [
        f"Calibrated on the other scales, checked on **{check['held_out']}** ({check['jobs']:,} jobs): "
        f"forecast {check['forecast_total_s']:.1f}s, measured {check['measured_total_s']:.1f}s "
        f"(error {check['total_error']:+.0%})."
    ]
    slow = check["revisions_over_5s"]
    lines.append(
        "No revision took or was forecast to take over 5 s at that scale."
        if not slow
        else "Revisions over 5 s: "
        + ", ".join(f"`{r['revision']}` forecast {r['forecast_s']:.1f}s, measured {r['measured_s']:.1f}s" for r in slow)
    )
    return lines


def upgrade_times() -> str:
    runs = _runs()
    if not runs:
        return "No measurements are committed yet (run `python bench/measure_scale.py`)."
    parts = ["### At each scale", "", *summary_table(runs), ""]
    parts += ["### How long a reader or writer of `job` waited", "", *blocks_table(runs), ""]
    parts += ["### Rehearsal, copies and backups", "", copy_time_chart(), "", *copies_table(runs), ""]
    parts += [*backups_table(runs), "", "### Rows per job at each scale", "", *proportion_lines(runs)]
    parts += ["", "### Per revision (Galaxy's command)", "", revision_time_chart(), ""]
    parts += [
        "Locks as the bench saw them from a side session (`pg_locks`), strong modes only; each revision "
        "was also run alone so that a lock goes to the revision that takes it (`bench/measure_scale.py`). "
        "`ACCESS EXCLUSIVE` blocks readers and writers; the other strong modes block writers.",
        "",
    ]
    parts += [*revision_table(runs), "", "### The forecast, checked", "", *forecast_lines()]
    parts += ["", f"Measured on: {runs[-1]['machine']}."]
    return "\n".join(parts)


def _span(values: list[float], fmt: str) -> str:
    low, high = min(values), max(values)
    return format(low, fmt) if f"{low:{fmt}}" == f"{high:{fmt}}" else f"{low:{fmt}} to {high:{fmt}}"


def upgrade_findings() -> str:
    """``<!-- generated: upgrade-findings -->``: the page's statements about the numbers, from the numbers."""
    runs = _runs()
    if not runs:
        return "No measurements are committed yet."
    first, last = runs[0], runs[-1]
    migrations = [run["galaxy"]["migrations_s"] for run in runs]
    ratios = [run["ratios"]["ours_to_galaxy"] for run in runs]
    rehearsal = [run["ratios"]["rehearsal_to_upgrade"] for run in runs]
    job_block = [
        max(run["galaxy"]["longest_block_s"]["select job"], run["ours"]["longest_block_s"]["select job"])
        for run in runs
    ]
    copy = last["rehearsal_copy"]
    sizes = f"{_mb(first['generator']['bytes'])} to {_mb(last['generator']['bytes'])}"
    grows = "does not grow" if max(migrations) < 2 * min(migrations) + 1 else "grows"
    lines = [
        f"- **Galaxy's migrations took {_span(migrations, '.2f')} s** from {first['generator']['jobs']:,} to "
        f"{last['generator']['jobs']:,} jobs ({sizes}): the time {grows} with the data. "
        "The rest of each wall time is Python starting Galaxy's code.",
        f"- **Ours / Galaxy's command: {_span(ratios, '.2f')}** (wall times, medians of the turns; no backup).",
        f"- **The longest a reader of `job` waited: {_span(job_block, '.2f')} s** (the probes, Galaxy's and our runs).",
        f"- **Rehearsal / upgrade: {_span(rehearsal, '.2f')}.** A rehearsal is the upgrade plus a full copy of the "
        f"database: at {_mb(last['generator']['bytes'])} the copy took {copy['file_copy_s']:.0f} s with "
        f"`STRATEGY FILE_COPY` and {copy['wal_log_s']:.0f} s with PostgreSQL 15's default `WAL_LOG`.",
    ]
    return "\n".join(lines)
