"""``<!-- generated: rehearsal-scope -->``: the rehearsal before (full copy) and after (scoped copy),
from ``bench/results/rehearsal_scope.json`` (``bench/rehearsal_scope.py``)."""

from __future__ import annotations

import json

from docs_build.generated.scale_results import RESULTS

RESULT = RESULTS / "rehearsal_scope.json"
ORDER = ["small", "heldout", "large"]


def _size(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:,.1f} GB"
    return f"{n / 1024**2:,.0f} MB" if n >= 1024**2 else f"{n / 1024:,.0f} kB"


def _turns(scales: list, key: str) -> str:
    counts = sorted({len(entry[key]) for _, entry in scales})
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"


def rehearsal_scope_table() -> str:
    run = json.loads(RESULT.read_text())
    empty = run["empty"]
    lines = [
        "`python bench/rehearsal_scope.py` timed `upgrade --rehearse=full` (a copy of every row), "
        "`upgrade --rehearse` (the schema of every table, the rows of the tables the pending revisions read "
        "or write, the data preconditions of the other tables checked read-only on the live database) and "
        "the upgrade itself, on PostgreSQL databases `bench/scale.py` filled:",
        "",
        "| jobs | database | upgrade | before: full copy (× upgrade) | after: scoped (× upgrade) "
        "| rows copied / left out |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    scales = sorted(run["scales"].items(), key=lambda item: ORDER.index(item[0]) if item[0] in ORDER else 99)
    for _, entry in scales:
        lines.append(
            f"| {entry['jobs']:,} | {_size(entry['bytes'])} | {entry['upgrade_s']:.1f}s "
            f"| {entry['rehearsal_full_s']:.1f}s ({entry['full_to_upgrade']:.1f}×) "
            f"| {entry['rehearsal_scoped_s']:.1f}s ({entry['scoped_to_upgrade']:.1f}×) "
            f"| {_size(entry['copied_bytes'])} / {_size(entry['left_out_bytes'])} |"
        )
    lines.append(
        f"| 0 (25.0, no rows) | {_size(empty['bytes'])} | | {empty['rehearsal_full_s']:.1f}s "
        f"| {empty['rehearsal_scoped_s']:.1f}s | {_size(empty['copied_bytes'])} / {_size(empty['left_out_bytes'])} |"
    )
    notes = [
        "",
        f"Medians of the turns (scoped: {_turns(scales, 'rehearsal_scoped_walls_s')} per scale; full: "
        f"{_turns(scales, 'rehearsal_full_walls_s')}), each command's wall time including "
        "Galaxy's start; the machine was shared with other work (its load average is in the results).",
    ]
    if "untouched_rows_ratio" in run:
        notes.append(
            f"With {_size(run['scales']['large']['left_out_bytes'])} of rows in tables no pending revision "
            f"touches, the scoped rehearsal took {run['untouched_rows_ratio']:.2f}× its time on the same schema "
            "without any rows."
        )
    return "\n".join(lines + notes)
