"""No data lost: every row the fixture holds, looked up again after the upgrade, column by column.

The rows are compared value by value with the fixture as it was loaded (which is first checked
against the manifest's digests). A column that is gone or holds other values, or a row that is
gone, is put down to the applied revisions whose files name that table (and column): a
revision that drops or rewrites it. Nothing is listed by hand; what no applied revision names is
``lost`` (a finding).
"""

from __future__ import annotations

import re

from runbooks.code.effects import effects
from runbooks.code.revisions import RevisionGraph
from runbooks.code.touching import revisions_naming

VERSION_TABLES = ("alembic_version", "migrate_version")


def check_manifest(snapshot_digests: dict, entry: dict) -> list[str]:
    """Tables whose loaded rows do not match the manifest's digests (expected: none)."""
    expected = {t: e for t, e in entry["tables"].items()}
    return sorted(t for t in set(expected) | set(snapshot_digests) if expected.get(t) != snapshot_digests.get(t))


def _by_key(columns: list[str], pk: list[str], rows: list[tuple], key_columns: list[str]) -> dict:
    index = [columns.index(c) for c in key_columns]
    return {"|".join(str(row[i]) for i in index): row for row in rows}


def _named(graph, applied, table, column="", data_fix=False, calls: str = "") -> list[str]:
    """Applied revisions that name ``table`` (and ``column``); with ``calls``, only those that call it
    (``drop_table``, ``drop_column``); with ``data_fix``, only data-fix revisions."""

    def fitting(rids: list[str]) -> list[str]:
        rids = [rid for rid in rids if calls in _text(graph, rid)]
        fixes = [rid for rid in rids if effects(graph.revisions[rid]).data_fix]
        return fixes if data_fix or (fixes and not calls) else rids  # a changed value: data fixes first

    found = fitting(revisions_naming(graph, table, column, applied)) or fitting(
        _mentioning(graph, applied, table, column)
    )
    return [f"{rid} ({graph.revisions[rid].message})" for rid in found]


def _text(graph: RevisionGraph, rid: str) -> str:
    """A revision's file and the data_fixes modules it imports (where a table name may live as a constant)."""
    path = graph.revisions[rid].path
    text = path.read_text(encoding="utf-8", errors="replace")
    for module in re.findall(r"from galaxy\.model\.migrations\.data_fixes\.(\w+) import", text):
        fix = path.parent.parent.parent / "data_fixes" / f"{module}.py"
        text += fix.read_text(encoding="utf-8", errors="replace") if fix.is_file() else ""
    return text


def _mentioning(graph: RevisionGraph, applied: set[str], table: str, column: str) -> list[str]:
    words = [re.compile(rf"\b{re.escape(name)}\b") for name in (table, column) if name]
    return [rid for rid in graph.in_order(among=applied) if all(w.search(_text(graph, rid)) for w in words)]


def compare(before: dict, after: dict, graph: RevisionGraph, applied: set[str], touched: set = frozenset()) -> dict:
    """``before``/``after``: {table: (columns, primary key, rows)} of the fixture and the upgraded database;
    ``touched``: (table, column) pairs the model sets on every update (``onupdate_columns``)."""
    report = {"tables": 0, "rows_checked": 0, "values_compared": 0, "rows_lost": 0, "changes": [], "unexplained": []}
    for table, (columns, pk, rows) in sorted(before.items()):
        if not rows or table in VERSION_TABLES:
            continue
        report["tables"] += 1
        report["rows_checked"] += len(rows)
        if table not in after:
            _record(
                report, graph, applied, table, "", f"table dropped ({len(rows)} rows)", len(rows), calls="drop_table"
            )
            continue
        after_columns, _, after_rows = after[table]
        common = [c for c in columns if c in after_columns]
        for column in columns:
            if column not in after_columns:
                _record(report, graph, applied, table, column, "column dropped", 0, calls="drop_column")
        key = pk if pk and all(c in after_columns for c in pk) else common
        old = _by_key(columns, pk, rows, key)
        new = _by_key(after_columns, pk, after_rows, key)
        missing = sorted(set(old) - set(new))
        if missing:
            _record(
                report,
                graph,
                applied,
                table,
                "",
                f"{len(missing)} row(s) removed: {', '.join(missing[:5])}",
                len(missing),
                data_fix=True,
            )
        changed = {}
        for column in common:
            i, j = columns.index(column), after_columns.index(column)
            changed[column] = sorted(k for k in old if k in new and old[k][i] != new[k][j])
            report["values_compared"] += sum(1 for k in old if k in new)
        _changed_values(report, graph, applied, table, {c: keys for c, keys in changed.items() if keys}, touched)
    return report


def _changed_values(report, graph, applied, table: str, changed: dict, touched: set) -> None:
    """A column the model updates by itself (``onupdate``: update_time) changed in rows another column's
    data fix rewrote: put down to that revision, not to whichever revision happens to name the column."""
    own = {c: _named(graph, applied, table, c) for c in changed if (table, c) not in touched}
    for column, keys in changed.items():
        what = f"{len(keys)} value(s) changed (rows {', '.join(keys[:5])})"
        if (table, column) in touched:
            by = sorted({rid for other, rids in own.items() if set(changed[other]) & set(keys) for rid in rids})
            what += ", set by the model's onupdate when the revision rewrote the row"
            _add(report, {"table": table, "column": column, "what": what, "by": by}, 0)
        else:
            _add(report, {"table": table, "column": column, "what": what, "by": own[column]}, 0)


def _record(report, graph, applied, table, column, what, rows, data_fix=False, calls="") -> None:
    item = {
        "table": table,
        "column": column,
        "what": what,
        "by": _named(graph, applied, table, column, data_fix, calls),
    }
    _add(report, item, rows)


def _add(report: dict, item: dict, rows: int) -> None:
    if item["by"]:
        report["changes"].append(item)
    else:
        report["unexplained"].append(item)
        report["rows_lost"] += rows


def onupdate_columns() -> set[tuple[str, str]]:
    """(table, column) pairs Galaxy's model sets by itself on every ORM update (``onupdate``)."""
    import galaxy.model as model
    from galaxy.model import tool_shed_install  # noqa: F401  (its tables join the metadata)

    tables = model.mapper_registry.metadata.tables.values()
    return {(table.name, column.name) for table in tables for column in table.columns if column.onupdate is not None}
