"""``<!-- generated: upgrade-matrix* -->``: the committed upgrade matrix (bench/results/upgrade_matrix.json)."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "upgrade_matrix.json"


def _cells() -> list[dict]:
    if not RESULTS.is_file():
        return []
    return json.loads(RESULTS.read_text())["cells"]


def _code(text: str) -> str:
    return f"`{text}`" if text else "—"


def _cell_text(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stop(cell: dict) -> str:
    if "stops" not in cell:
        return "—"
    stop = cell["stops"][0]
    return f"{_code(stop.get('stopped_at') or '')}: {_cell_text(stop.get('error') or stop.get('refused') or '', 160)}"


def _way_out(cell: dict) -> str:
    if "stops" not in cell:
        return "—"
    statements = [s for stop in cell["stops"] for s in stop.get("way_out_statements") or []]
    if statements:
        return " ".join(_code(s) for s in statements) + (" → head" if cell["reached_head"] else " → still stopped")
    return "none given" + (
        f" ({_cell_text(cell['stops'][0]['way_out'], 120)})" if cell["stops"][0].get("way_out") else ""
    )


def _data(cell: dict) -> str:
    data = cell["data"]
    lost = data["rows_lost"]
    mark = "" if not data["unexplained"] else f", **{len(data['unexplained'])} unexplained**"
    return f"{data['rows_checked']} / {lost}{mark}"


def _schema(cell: dict) -> str:
    schema = cell["schema"]
    if "not_compared" in schema:
        return f"not compared ({schema['not_compared']})"
    total, unexplained = len(schema["differences"]), schema["unexplained"]
    return f"{total} ({unexplained} unexplained)" if unexplained else f"{total} (all explained)"


def _reverse(cell: dict) -> str:
    back = cell.get("reverse")
    if not back:
        return "not run"
    if back.get("accepted") is None:
        return _cell_text(back["why"], 100)
    verdict = "accepted" if back["accepted"] else f"**refused**: {_cell_text(back.get('why', ''), 120)}"
    fresh = "" if back.get("from", "").startswith("this cell") else " (from a fresh head database)"
    return f"to {back['tag']}: {verdict}{fresh}"


def matrix_table() -> str:
    cells = _cells()
    if not cells:
        return "No matrix has been committed yet: run `python -m bench.upgrade_matrix refresh`."
    lines = [
        "| release | dialect | pending | outcome | stopped at: error | way out applied | slowest revisions "
        "| rows checked / lost | schema differences from a fresh head database | way back, judged by the release |",
        "|---|---|---:|---|---|---|---|---|---|---|",
    ]
    for cell in cells:
        slowest = ", ".join(f"`{s['revision']}` {s['seconds']:.2f}s" for s in cell["slowest"][:3])
        lines.append(
            f"| {cell['release']} | {cell['dialect']} | {cell['pending']} | {cell['outcome']} | {_stop(cell)} "
            f"| {_way_out(cell)} | {slowest} | {_data(cell)} | {_schema(cell)} | {_reverse(cell)} |"
        )
    return "\n".join(lines)


def slowest_table() -> str:
    times: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for cell in _cells():
        for revision, seconds in cell["revision_seconds"].items():
            times.setdefault((revision, cell["dialect"]), []).append((seconds, cell["release"]))
    ranked = sorted(times.items(), key=lambda item: -max(item[1])[0])[:10]
    lines = ["| revision | dialect | slowest (from release) | median over cells | cells |", "|---|---|---:|---:|---:|"]
    for (revision, dialect), seen in ranked:
        ordered = sorted(s for s, _ in seen)
        top = max(seen)
        lines.append(
            f"| `{revision}` | {dialect} | {top[0]:.2f}s ({top[1]}) | {ordered[len(ordered) // 2]:.2f}s | {len(seen)} |"
        )
    return "\n".join(lines)


def _cells_text(keys: list[tuple[str, str]]) -> str:
    """``22.1.1, 23.0.6 (sqlite); 22.1.1 (postgresql)``: the cells a row of a grouped table holds for."""
    parts = []
    for dialect in ("sqlite", "postgresql"):
        releases = [release for release, d in keys if d == dialect]
        if releases:
            parts.append(f"{', '.join(releases)} ({dialect})")
    return "; ".join(parts)


def _grouped(rows: list[tuple[tuple, tuple[str, str]]]) -> list[tuple[tuple, str]]:
    groups: dict[tuple, list[tuple[str, str]]] = {}
    for key, cell in rows:
        groups.setdefault(key, []).append(cell)
    return [(key, _cells_text(cells)) for key, cells in groups.items()]


def data_changes() -> str:
    rows = []
    for cell in _cells():
        for item in cell["data"]["changes"] + cell["data"]["unexplained"]:
            where = f"{item['table']}.{item['column']}" if item["column"] else item["table"]
            what = item["what"].split(" (rows ")[0].split(": ")[0]
            rows.append(((where, what, tuple(item["by"])), (cell["release"], cell["dialect"])))
    lines = ["| table.column | what changed | by (revision) | cells |", "|---|---|---|---|"]
    for (where, what, by), cells in sorted(_grouped(rows), key=lambda row: (bool(row[0][2]), row[0][0])):
        named = ", ".join(f"`{b}`" for b in by) or "**unexplained: data lost**"
        lines.append(f"| `{where}` | {_cell_text(what)} | {named} | {cells} |")
    return "\n".join(lines)


def schema_differences() -> str:
    rows = []
    for cell in _cells():
        for item in cell["schema"].get("differences", []):
            key = (item["explained"], item["class"], item["difference"], item["explanation"])
            rows.append((key, (cell["release"], cell["dialect"])))
    lines = ["| difference | class | explanation | cells |", "|---|---|---|---|"]
    for (explained, code, difference, why), cells in sorted(_grouped(rows)):
        flag = "" if explained else "**finding** "
        lines.append(f"| {_cell_text(difference, 160)} | {flag}`{code}` | {_cell_text(why, 200)} | {cells} |")
    return "\n".join(lines)


SNIPPETS = {
    "upgrade-matrix": matrix_table,
    "upgrade-matrix-slowest": slowest_table,
    "upgrade-matrix-data": data_changes,
    "upgrade-matrix-schema": schema_differences,
}
