"""Rehearsal before (full copy) and after (scoped copy) against the upgrade, at 20k, 600k and 10M jobs.

    python bench/rehearsal_scope.py                               # small (20k) and heldout (600k), made here
    python bench/rehearsal_scope.py --large bench_scale_10m       # plus a 10M-job base bench/scale.py made

Each scale's base is a 25.0 database ``bench/scale.py`` fills (the large one is made beforehand,
it takes ~30 min). On each base, in turns (``--repeats``): ``python -m runbooks upgrade
--rehearse=full`` (today's full copy) and ``upgrade --rehearse`` (the schema of everything, the
rows of the tables the pending revisions touch); then, once, the upgrade itself
(``upgrade --yes --no-backup``) on the base, which is then dropped (unless it was given with
``--large``: the caller drops it). The baseline "without the rows": the same rehearsal on the 25.0
release's own database with no rows at all. Medians and every wall time go to
``bench/results/rehearsal_scope.json``, where the scales an earlier run measured stay (each entry
says when, and the load average then; ``--fresh`` forgets them); the row-less baseline is measured
again by every run. The machine is shared with other work: say so when quoting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import SCALES, make, restore_release  # noqa: E402

from runbooks.database.connections import read_only_cursor, run_admin_sql  # noqa: E402
from runbooks.database.urls import DatabaseUrl  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
RESULT = PROJECT / "bench" / "results" / "rehearsal_scope.json"
SERVER = DatabaseUrl.parse(os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
CLI = [sys.executable, "-m", "runbooks"]


def run(db: DatabaseUrl, *args: str) -> tuple[float, dict]:
    """Wall seconds of one CLI call on ``db`` and its --json report; exits on a failure."""
    started = time.perf_counter()
    result = subprocess.run([*CLI, *args, "--json", "--db", db.secret()], capture_output=True, text=True, cwd=PROJECT)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed on {db.database_name}: {(result.stdout + result.stderr)[-1500:]}")
    return round(wall, 3), json.loads(result.stdout)


def size(db: DatabaseUrl) -> int:
    with read_only_cursor(db) as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def rehearsals(db: DatabaseUrl, repeats: int, full_repeats: int) -> dict:
    full, scoped, scope = [], [], {}
    for turn in range(max(repeats, full_repeats)):
        if turn < full_repeats:
            wall, report = run(db, "upgrade", "--rehearse=full")
            full.append(wall)
            assert report["rehearsal"]["scope"]["mode"] == "full", report["rehearsal"]["scope"]
        if turn < repeats:
            wall, report = run(db, "upgrade", "--rehearse")
            scoped.append(wall)
            scope = report["rehearsal"]["scope"]
        print(f"  {db.database_name} turn {turn + 1}: full {full[-1:]} scoped {scoped[-1:]}", flush=True)
    return {
        "rehearsal_full_s": round(statistics.median(full), 3) if full else None,
        "rehearsal_full_walls_s": full,
        "rehearsal_scoped_s": round(statistics.median(scoped), 3),
        "rehearsal_scoped_walls_s": scoped,
        "scoped_mode": scope["mode"],
        "copied_tables": scope["copied_tables"],
        "copied_bytes": scope["copied_bytes"],
        "left_out_bytes": scope["left_out_bytes"],
        "rounds": scope["rounds"],
        "preconditions": len(scope["preconditions"]),
    }


def measure(name: str, db: DatabaseUrl, repeats: int, full_repeats: int, jobs: int) -> dict:
    entry = {"jobs": jobs, "bytes": size(db), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "load_average_1min": round(os.getloadavg()[0], 2)}  # fmt: skip
    entry |= rehearsals(db, repeats, full_repeats)
    entry["upgrade_s"], report = run(db, "upgrade", "--yes", "--no-backup", "--ignore-sessions")
    assert report["succeeded"], report
    entry["scoped_to_upgrade"] = round(entry["rehearsal_scoped_s"] / entry["upgrade_s"], 2)
    entry["full_to_upgrade"] = round(entry["rehearsal_full_s"] / entry["upgrade_s"], 2)
    print(f"{name}: {json.dumps(entry)}", flush=True)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="*", default=["small", "heldout"], help="scales made here")
    parser.add_argument("--large", metavar="DATABASE", help="an existing 10M-job base (bench/scale.py large)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="forget the scales an earlier run measured")
    args = parser.parse_args()
    results: dict = {"machine": f"{os.cpu_count()} cores, shared with other work; medians of the turns",
                     "python": platform.python_version(), "scales": {}}  # fmt: skip
    if RESULT.exists() and not args.fresh:  # scales measured by an earlier run stay (each says when)
        results["scales"] = json.loads(RESULT.read_text()).get("scales", {})
    empty = SERVER.with_database("bench_rscope_empty")
    restore_release(empty)  # the 25.0 schema, no rows: the rehearsal's time "without them"
    results["empty"] = {"bytes": size(empty), "load_average_1min": round(os.getloadavg()[0], 2)}
    results["empty"] |= rehearsals(empty, args.repeats, 1)
    run_admin_sql(SERVER, f'DROP DATABASE IF EXISTS "{empty.database_name}" WITH (FORCE)')
    for scale in args.scales:
        db = SERVER.with_database(f"bench_rscope_{scale}")
        made = make(db, SCALES[scale], say=lambda text: None)
        results["scales"][scale] = measure(scale, db, args.repeats, args.repeats, made["jobs"])
        results["scales"][scale]["generate_s"] = round(made["timings"]["total_s"], 1)
        run_admin_sql(SERVER, f'DROP DATABASE IF EXISTS "{db.database_name}" WITH (FORCE)')
        RESULT.write_text(json.dumps(results, indent=1) + "\n")
    if args.large:
        db = SERVER.with_database(args.large)
        results["scales"]["large"] = measure("large", db, args.repeats, 1, SCALES["large"].jobs)
    if "large" in results["scales"]:
        large = results["scales"]["large"]
        results["untouched_rows_ratio"] = round(large["rehearsal_scoped_s"] / results["empty"]["rehearsal_scoped_s"], 2)
    RESULT.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
