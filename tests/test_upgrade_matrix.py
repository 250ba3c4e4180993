"""The committed upgrade matrix (bench/results/upgrade_matrix.json) still holds.

A subset of cells is run again on every test run (the oldest release on SQLite, one release on
PostgreSQL; the way back, which needs each release's venv, only in the full run) and must give
the committed result: outcome, stopping revision, rows checked and lost, what changed in the
data and by which revision, schema differences and their classes; never the times.
RUNBOOK_FULL_MATRIX=1 runs every cell. A committed cell that lost data fails until explained.
"""

from __future__ import annotations

import json
import os

import pytest

from bench.upgrade_matrix import RESULTS
from bench.upgrade_matrix.fixtures import releases_with_fixtures
from runbooks.settings import FULL_MATRIX_ENV

FULL = os.environ.get(FULL_MATRIX_ENV) == "1"
SUBSET = [("22.1.1", "sqlite"), ("26.0.2", "postgresql")]
CELLS = [(r, d) for r in releases_with_fixtures() for d in ("sqlite", "postgresql")] if FULL else SUBSET


def committed() -> dict[tuple[str, str], dict]:
    return {(cell["release"], cell["dialect"]): cell for cell in json.loads(RESULTS.read_text())["cells"]}


def comparable(cell: dict) -> dict:
    """What a rerun must reproduce exactly."""
    data = cell["data"]
    return {
        "outcome": cell["outcome"],
        "stopped_at": cell.get("stopped_at"),
        "way_out_statements": [s for stop in cell.get("stops", []) for s in stop.get("way_out_statements") or []],
        "reached_head": cell["reached_head"],
        "alembic_version": cell["alembic_version"],
        "rows_checked": data["rows_checked"],
        "rows_lost": data["rows_lost"],
        "data": sorted(
            (c["table"], c["column"], c["what"], tuple(c["by"])) for c in data["changes"] + data["unexplained"]
        ),
        "schema": sorted((d["difference"], d["class"]) for d in cell["schema"].get("differences", [])),
    }


def test_the_matrix_covers_ten_releases_on_both_dialects():
    cells = committed()
    releases = {release for release, _ in cells}
    assert len(releases) >= 10
    assert all((release, dialect) in cells for release in releases for dialect in ("sqlite", "postgresql"))
    assert releases <= set(releases_with_fixtures())  # every cell comes from a committed data fixture


def test_no_committed_cell_lost_data():
    lost = {
        key: cell["data"]["unexplained"]
        for key, cell in committed().items()
        if cell["data"]["unexplained"] or cell["data"]["rows_lost"]
    }
    assert lost == {}


def test_every_stop_with_a_way_out_reached_head_after_it():
    for key, cell in committed().items():
        statements = [s for stop in cell.get("stops", []) for s in stop.get("way_out_statements") or []]
        if statements:
            assert cell["reached_head"], key
            assert cell["outcome"] == "stopped, reached head after the way out", key


@pytest.mark.parametrize(("release", "dialect"), CELLS, ids=[f"{r}-{d}" for r, d in CELLS])
def test_a_rerun_gives_the_committed_cell(release, dialect, request):
    from bench.upgrade_matrix.cell import run_cell

    if dialect == "postgresql":
        request.getfixturevalue("pg_admin")  # skips without a server, fails under CI=true
    cell = run_cell(release, dialect, with_reverse=FULL)
    assert comparable(cell) == comparable(committed()[(release, dialect)])
    if FULL:
        assert cell["reverse"] == {k: v for k, v in committed()[(release, dialect)]["reverse"].items()}


def test_the_page_shows_every_committed_cell():
    """The grid gives each cell's answer (a stop names its revision and links to its section, which
    gives the way out's SQL); the cells table gives its rows checked and lost."""
    from docs_build.generated.upgrade_matrix import DIALECTS, SNIPPETS

    names = ("upgrade-matrix", "upgrade-matrix-cells", "upgrade-matrix-stops")
    grid, cells, stops = (SNIPPETS[name]() for name in names)
    for (release, dialect), cell in committed().items():
        row = next(line for line in grid.splitlines() if line.startswith(f"| {release} |"))
        answer = row.split(" | ")[2 + list(DIALECTS).index(dialect)]
        if "stops" not in cell:
            assert answer.startswith("✓ reached head"), row
        else:
            revision = cell["stops"][0]["stopped_at"].split()[-1]
            assert f"stopped at [`{revision}`](#stop-{revision})" in answer, row
            assert f"{{ #stop-{revision} }}" in stops
            assert all(statement in stops for statement in cell["stops"][0]["way_out_statements"])
            assert answer.rstrip(" |").endswith(", then head") == cell["reached_head"], row
        line = next(line for line in cells.splitlines() if line.startswith(f"| {release} | {dialect} |"))
        assert f"| {cell['data']['rows_checked']} / {cell['data']['rows_lost']} |" in line
