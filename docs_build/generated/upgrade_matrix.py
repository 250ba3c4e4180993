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


DIALECTS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _stop_anchor(stop: dict) -> str:
    """``stop-cde5d2db77e7``: one section per distinct stop, which every cell that met it links to."""
    return "stop-" + (stop.get("stopped_at") or "refused").split()[-1]


def _grid_cell(cell: dict | None) -> str:
    """A mark and a word: reached head, or stopped at REV (linked to the stop's section) and what followed."""
    if cell is None:
        return "not run"
    if "stops" not in cell:
        return "✓ reached head" if cell["reached_head"] else f"✗ {cell['outcome']}"
    stop = cell["stops"][0]
    where = f"[`{(stop.get('stopped_at') or 'refused').split()[-1]}`](#{_stop_anchor(stop)})"
    if cell["reached_head"]:
        return f"⚠ stopped at {where}, then head"
    return f"✗ stopped at {where}"


def _summary(cells: list[dict]) -> str:
    """The answer in one sentence, from the cells."""
    parts, order = [], list(dict.fromkeys(cell["release"] for cell in cells))
    for dialect, title in DIALECTS.items():
        mine = [cell for cell in cells if cell["dialect"] == dialect]
        clean = [cell["release"] for cell in mine if cell["reached_head"] and "stops" not in cell]
        after = [cell["release"] for cell in mine if cell["reached_head"] and "stops" in cell]
        never = [cell["release"] for cell in mine if not cell["reached_head"]]
        if len(clean) == len(mine):
            parts.append(f"on {title} every release reaches head in one run")
            continue
        text = f"on {title} {_they(clean, order, 'reach', 'no release reaches')} head in one run"
        if after:
            text += f"; {_they(after, order, 'stop')} once and reach head after the way out the tool prints"
        parts.append(text + (f"; {_they(never, order, 'do')} not reach head" if never else ""))
    return f"Upgraded to head ({_galaxy_data()}'s code): " + "; ".join(parts) + "."


def _they(releases: list[str], order: list[str], verb: str, none: str = "") -> str:
    """``22.1.1 to 25.1.3 stop`` / ``26.0.2 stops``: the releases and the verb agreeing with them."""
    if not releases:
        return none
    single = {"do": "does"}.get(verb, verb + "es" if verb.endswith(("h", "s")) else verb + "s")
    return f"{_releases(releases, order)} {verb if len(releases) > 1 else single}"


def _releases(releases: list[str], order: list[str]) -> str:
    """``22.1.1 to 25.1.3`` for a run of consecutive releases, else each one named."""
    if len(releases) > 2 and order[order.index(releases[0]) : order.index(releases[-1]) + 1] == releases:
        return f"{releases[0]} to {releases[-1]}"
    return ", ".join(releases)


def _galaxy_data() -> str:
    return f"galaxy-data {json.loads(RESULTS.read_text()).get('galaxy_data', '')}".strip()


def matrix_table() -> str:
    """The answer: release × dialect, a mark and a word per cell (``<!-- generated: upgrade-matrix -->``)."""
    cells = _cells()
    if not cells:
        return "No matrix has been committed yet: run `python -m bench.upgrade_matrix refresh`."
    by_key = {(cell["release"], cell["dialect"]): cell for cell in cells}
    lines = [_summary(cells), "", "| release | revisions to head | " + " | ".join(DIALECTS.values()) + " |"]
    lines.append("|---|---:|" + "---|" * len(DIALECTS))
    for release in dict.fromkeys(cell["release"] for cell in cells):
        pending = max(cell["pending"] for cell in cells if cell["release"] == release)
        marks = " | ".join(_grid_cell(by_key.get((release, dialect))) for dialect in DIALECTS)
        lines.append(f"| {release} | {pending} | {marks} |")
    return "\n".join(lines)


def _way_out_parts(stop: dict) -> tuple[str, list[str], str]:
    """The printed way out as (its lead, its SQL statements, what follows them)."""
    text, statements = " ".join(str(stop.get("way_out") or "").split()), stop.get("way_out_statements") or []
    if not statements or statements[0] not in text:
        return text, statements, ""
    lead, rest = text.split(statements[0], 1)
    tail = rest.split(statements[-1], 1)[-1] if statements[-1] in rest else ""
    return lead.strip().rstrip(":") + ":", statements, tail.strip()


def stops_sections() -> str:
    """One section per distinct stop: the cells that met it, Galaxy's error, the way out and its SQL."""
    groups: dict[str, list[dict]] = {}
    for cell in _cells():
        if "stops" in cell:
            groups.setdefault(_stop_anchor(cell["stops"][0]), []).append(cell)
    if not groups:
        return "No upgrade stopped."
    parts = []
    for anchor, cells in groups.items():
        stop = cells[0]["stops"][0]
        lead, statements, tail = _way_out_parts(stop)
        after = "reached head" if all(cell["reached_head"] for cell in cells) else "did not reach head"
        parts += [
            f"### Stopped at `{stop.get('stopped_at') or 'refused'}` {{ #{anchor} }}",
            "",
            f"**Cells**: {_cells_text([(cell['release'], cell['dialect']) for cell in cells])}. "
            f"With the way out applied, the upgrade run again {after}.",
            "",
            "Galaxy's error:",
            "",
            "```text",
            str(stop.get("error") or stop.get("refused")),
            "```",
            "",
            f"The way out the tool printed: {lead}",
            "",
        ]
        if statements:
            parts += ["```sql", *statements, "```", ""]
        parts += [f"After the SQL: {tail}", ""] if tail else []
    return "\n".join(parts)


def _reverse(cell: dict) -> str:
    back = cell.get("reverse")
    if not back:
        return "not run"
    if back.get("accepted") is None:
        return _cell_text(back["why"], 60)
    verdict = "accepted" if back["accepted"] else "**refused**"
    fresh = "" if back.get("from", "").startswith("this cell") else " (fresh head database)"
    return f"to `{back['tag']}`: {verdict}{fresh}"


def _schema(cell: dict) -> str:
    schema = cell["schema"]
    if "not_compared" in schema:
        return "not compared"
    total, unexplained = len(schema["differences"]), schema["unexplained"]
    return f"{total} (**{unexplained} unexplained**)" if unexplained else f"{total} (all explained)"


def _data(cell: dict) -> str:
    data = cell["data"]
    mark = "" if not data["unexplained"] else f", **{len(data['unexplained'])} unexplained**"
    return f"{data['rows_checked']} / {data['rows_lost']}{mark}"


def cells_table() -> str:
    """Each cell's measurements, short columns (``<!-- generated: upgrade-matrix-cells -->``)."""
    lines = [
        "| release | dialect | upgrade | rows checked / lost | schema differences | way back, judged by the release |",
        "|---|---|---:|---|---|---|",
    ]
    for cell in _cells():
        lines.append(
            f"| {cell['release']} | {cell['dialect']} | {cell['upgrade_seconds']:.2f}s | {_data(cell)} "
            f"| {_schema(cell)} | {_reverse(cell)} |"
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
    """One collapsible block per explanation (a finding open), each difference a line with its cells."""
    groups: dict[tuple, list[tuple[str, tuple[str, str]]]] = {}
    for cell in _cells():
        for item in cell["schema"].get("differences", []):
            key = (item["explained"], item["class"], item["explanation"])
            groups.setdefault(key, []).append((item["difference"], (cell["release"], cell["dialect"])))
    blocks = []
    for (explained, code, why), items in sorted(groups.items(), key=lambda group: (group[0][0], group[0][2])):
        differences = _grouped([((difference,), where) for difference, where in items])
        title = f"{why} ({code}, {len(differences)} difference(s))".replace('"', "'")
        blocks.append(f'{"???" if explained else "???+"} {"note" if explained else "warning"} "{title}"')
        blocks += ["", *(f"    - {_cell_text(d, 400)}: {cells}" for (d,), cells in sorted(differences)), ""]
    return "\n".join(blocks) if blocks else "No schema differences."


SNIPPETS = {
    "upgrade-matrix": matrix_table,
    "upgrade-matrix-stops": stops_sections,
    "upgrade-matrix-cells": cells_table,
    "upgrade-matrix-slowest": slowest_table,
    "upgrade-matrix-data": data_changes,
    "upgrade-matrix-schema": schema_differences,
}
