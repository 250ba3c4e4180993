"""One cell of the matrix: a release's data fixture on one dialect, from load to the way back."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.upgrade_matrix import fixtures
from bench.upgrade_matrix.data import check_manifest, compare, onupdate_columns
from bench.upgrade_matrix.reverse import reverse
from bench.upgrade_matrix.schema import compare_schema
from bench.upgrade_matrix.upgrade import upgrade_with_way_out
from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.scratch import scratch_database
from runbooks.database.urls import DatabaseUrl

SLOWEST = 5


def run_cell(release: str, dialect: str, with_reverse: bool = True) -> dict:
    env = GalaxyEnv.from_package()
    graph = RevisionGraph.load(env)
    entry = fixtures.manifest_entry(release, dialect)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="upgrade-matrix-") as folder,
        fixtures.loaded(release, dialect, Path(folder)) as db,
    ):
        before = fixtures.tables(db)
        mismatched = check_manifest(fixtures.digests(before), entry)
        if mismatched:
            raise SystemExit(
                f"error: {release} {dialect}: the loaded fixture differs from its manifest in "
                f"{', '.join(mismatched)}: regenerate it (tests/fixtures/make_release_data.py)"
            )
        runs = upgrade_with_way_out(db)
        applied = _applied(graph, runs[-1], entry)
        cell = _outcome(release, dialect, entry, runs)
        cell["data"] = compare(before, fixtures.tables(db), graph, applied, onupdate_columns())
        at_head = runs[-1]["reached"]
        cell["schema"] = compare_schema(db, graph, env) if at_head else {"not_compared": "not at head"}
        if with_reverse:
            cell["reverse"] = _reverse(db, release, graph, env, at_head)
    cell["wall_s"] = round(time.monotonic() - started, 1)
    return cell


def _applied(graph: RevisionGraph, last_run: dict, entry: dict) -> set[str]:
    """Revisions the upgrade applied: below what it left, not below where the fixture stood."""
    return graph.ancestors(last_run.get("alembic_version", [])) - graph.ancestors(entry.get("alembic_version", []))


def _outcome(release: str, dialect: str, entry: dict, runs: list[dict]) -> dict:
    first, last = runs[0], runs[-1]
    seconds: dict[str, float] = {}
    for run in runs:
        for revision, spent in run.get("seconds", {}).items():
            seconds[revision] = round(seconds.get(revision, 0) + spent, 3)
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:SLOWEST]
    cell = {
        "release": release,
        "dialect": dialect,
        "fixture": entry["file"],
        "from": entry.get("alembic_version") or [f"migrate_version {entry.get('migrate_version')}"],
        "pending": first.get("pending"),
        "outcome": "reached head" if first["reached"] else "stopped",
        "reached_head": last["reached"],
        "alembic_version": last.get("alembic_version", []),
        "revision_seconds": seconds,
        "slowest": [{"revision": rev, "seconds": spent} for rev, spent in slowest],
        "upgrade_seconds": round(sum(seconds.values()), 2),
    }
    if not first["reached"]:
        cell["stops"] = [
            {key: run.get(key) for key in ("stopped_at", "error", "way_out", "way_out_statements", "refused")}
            for run in runs
            if not run["reached"]
        ]
        cell["stopped_at"] = first.get("stopped_at")
        if last["reached"]:
            cell["outcome"] = "stopped, reached head after the way out"
        elif not last.get("way_out_statements"):
            cell["outcome"] = "stopped, no way out given"
    return cell


def _reverse(db: DatabaseUrl, release: str, graph: RevisionGraph, env: GalaxyEnv, at_head: bool) -> dict:
    if at_head:
        return reverse(db, release, graph) | {"from": "this cell's database, upgraded to head"}
    from runbooks.galaxy.commands import initialize

    server = None if db.is_sqlite else db
    with scratch_database(server, name="matrix_head") as scratch:
        initialize(scratch.db, env)
        return reverse(scratch.db, release, graph) | {
            "from": "a head database made by Galaxy's initialization (this cell's database did not reach head)"
        }
