"""``<!-- generated: upgrade-times -->``: the committed scale measurements (bench/results) as tables."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"
ORDER = ["tiny", "small", "medium", "heldout", "large"]


def _runs() -> list[dict]:
    runs = [json.loads(path.read_text()) for path in RESULTS.glob("scale_*.json")]
    return sorted(runs, key=lambda run: ORDER.index(run["scale"]) if run["scale"] in ORDER else 99)


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.0f} MB"


def summary_table(runs: list[dict]) -> list[str]:
    lines = [
        "| scale | jobs | datasets | database | Galaxy's command | its migrations | ours | slowest revisions "
        "| longest block (reader / writer of job) | TEMPLATE copy | backup (pg_dump) | restore (pg_restore) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for run in runs:
        galaxy, ours, backup = run["galaxy"], run["ours"], run["backup"]
        slow = sorted(galaxy["revisions"], key=lambda r: -r["seconds"])[:3]
        slowest = ", ".join(f"`{r['revision']}` {r['seconds']:.2f}s" for r in slow)
        block = galaxy["longest_block_s"]
        lines.append(
            f"| {run['scale']} | {run['generator']['jobs']:,} | {run['generator']['rows']['dataset']:,} "
            f"| {_mb(run['generator']['bytes'])} | {galaxy['wall_s']:.1f}s | {galaxy['migrations_s']:.2f}s "
            f"| {ours['wall_s']:.1f}s | {slowest} | {block['select job']:.2f}s / {block['update job']:.2f}s "
            f"| {galaxy['template_copy_s']:.1f}s | {backup['backup_s']:.1f}s | {backup['restore_s']:.1f}s |"
        )
    return lines


def revision_table(runs: list[dict]) -> list[str]:
    names = [run["scale"] for run in runs]
    lines = ["| revision | " + " | ".join(names) + " | locks seen (first seen in this revision) |"]
    lines.append("|---|" + "---:|" * len(names) + "---|")
    for index, rev in enumerate(runs[-1]["galaxy"]["revisions"]):
        times = [f"{run['galaxy']['revisions'][index]['seconds']:.3f}s" for run in runs]
        locks = sorted({f"{lock['table']} ({lock['mode'].removesuffix('Lock')})" for lock in rev["locks"]})
        lines.append(f"| `{rev['revision']}` | " + " | ".join(times) + f" | {', '.join(locks) or '—'} |")
    return lines


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
    parts = ["### At each scale", "", *summary_table(runs), "", "### Per revision (Galaxy's command)", ""]
    parts += [*revision_table(runs), "", "### The forecast, checked", "", *forecast_lines()]
    parts += ["", f"Measured on: {runs[-1]['machine']}."]
    return "\n".join(parts)
