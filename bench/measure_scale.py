"""Upgrade 25.0 -> head at a scale, measured: per revision, locks, probes, copies, backup.

    python bench/measure_scale.py small medium heldout [--repeats 3]   # bench/results/scale_<name>.json
    python bench/measure_scale.py large --repeats 1 --made large.json  # a base bench/scale.py made

For each scale: ``bench/scale.py`` makes the filled 25.0 database once (the base); every
upgrade works on a ``CREATE DATABASE ... TEMPLATE`` copy of that same base. Measured:

- Galaxy's own command (``DbScript().upgrade``, what ``manage_db.sh upgrade`` runs) in a fresh
  interpreter, with Alembic's "Running upgrade A -> B" lines time-stamped: a revision's time
  is from its line to the next one (the last one's includes the commit);
- ours, ``python -m runbooks upgrade --yes --no-backup``, its wall time (pre-flight, Galaxy's
  command, read-back), and ``upgrade --rehearse`` (its own copy of the base, the upgrade on it,
  the copy dropped); Galaxy, ours and the rehearsal take turns, ``--repeats`` times; the
  medians are reported and every wall time is kept;
- during both upgrades, the probes and the lock sampler of ``bench/probes.py``; then, to know
  which revision takes which lock, every revision alone (one Galaxy call each) on one more copy;
- the template copy with each PostgreSQL 15 strategy (WAL_LOG, the default, and FILE_COPY), and
  the dump/restore fallback (``pg_dump -Fc`` as our backup writes it, ``pg_restore`` as the
  fallback loads it), and the database and dump sizes.
At most two full copies exist at once (the base and one copy): the dump is restored after the
base is dropped. The machine is shared with other work (say so when quoting).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runbooks.settings import GALAXY_DB_OVERRIDE_ENV

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from probes import Watch  # noqa: E402
from scale import SCALES, make  # noqa: E402

from runbooks.database.backup import load_dump, make_backup  # noqa: E402
from runbooks.database.connections import connect_postgresql, run_admin_sql  # noqa: E402
from runbooks.database.urls import DatabaseUrl  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
# the probes are other sessions: our pre-flight would (rightly) refuse without --ignore-sessions
OURS = [sys.executable, "-m", "runbooks", "upgrade", "--yes", "--no-backup", "--ignore-sessions"]
REHEARSE = [sys.executable, "-m", "runbooks", "upgrade", "--rehearse"]
RESULTS = PROJECT / "bench" / "results"
SERVER = DatabaseUrl.parse(os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))

# Galaxy's DbScript as manage_db.sh runs it, Alembic's migration lines stamped with time.time()
GALAXY_UPGRADE = (
    "import logging, sys, time; from argparse import Namespace\n"
    "from galaxy.model.migrations.dbscript import DbScript\n"
    "script = DbScript()\n"
    "handler = logging.StreamHandler(sys.stdout)\n"
    "handler.setFormatter(logging.Formatter('%(created).4f %(message)s'))\n"
    "log = logging.getLogger('alembic.runtime.migration'); log.setLevel(logging.INFO); log.addHandler(handler)\n"
    "log.propagate = False\n"
    "print(f'{time.time():.4f} START', flush=True)\n"
    "script.upgrade(Namespace(revision=None, sql=False, repair=False, verbose=False, indicate_current=False))\n"
    "print(f'{time.time():.4f} DONE', flush=True)\n"
)


def _copy(base: str, name: str, strategy: str = "FILE_COPY") -> tuple[DatabaseUrl, float]:
    run_admin_sql(SERVER, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    started = time.perf_counter()
    run_admin_sql(SERVER, f'CREATE DATABASE "{name}" TEMPLATE "{base}" STRATEGY {strategy}')
    return SERVER.with_database(name), time.perf_counter() - started


def _drop(db: DatabaseUrl) -> None:
    run_admin_sql(SERVER, f'DROP DATABASE IF EXISTS "{db.database_name}" WITH (FORCE)')


def table_sizes(db: DatabaseUrl) -> dict[str, dict]:
    """Rows (pg_class.reltuples after ANALYZE) and bytes (table + indexes + toast) of each table."""
    conn = connect_postgresql(db)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        sizes = {name: {"rows": max(rows, 0), "bytes": size} for name, rows, size in cursor.fetchall()}
    conn.close()
    return sizes


def per_revision(lines: list[str]) -> tuple[list[dict], float, float]:
    """(revisions with start and seconds, start, done) from the stamped output."""
    stamps = [(float(line.split(" ", 1)[0]), line.split(" ", 1)[1]) for line in lines if line[:1].isdigit()]
    start = next(t for t, text in stamps if text == "START")
    done = next(t for t, text in stamps if text == "DONE")
    runs = [(t, text) for t, text in stamps if text.startswith("Running upgrade")]
    revisions = []
    for i, (t, text) in enumerate(runs):
        end = runs[i + 1][0] if i + 1 < len(runs) else done
        revision = text.split("->")[1].split(",")[0].strip()
        revisions.append({"revision": revision, "start": t, "seconds": round(end - t, 4)})
    return revisions, start, done


def _attribute_locks(revisions: list[dict], sampler, done: float) -> None:
    """Each lock to every revision that ran between the sample before it was seen and the one that saw it.

    Revisions take milliseconds, less than the sampler's period, so a lock can belong to any
    revision in that window: all of them get it (``merge_locks`` narrows it down).
    """
    ends = [rev["start"] for rev in revisions[1:]] + [done]
    for rev, end in zip(revisions, ends, strict=True):
        rev["end"] = end
        rev["locks"] = []
    for (table, mode), (first, last, after) in sorted(sampler.seen.items(), key=lambda item: item[1][0]):
        window = [rev for rev in revisions if rev["start"] <= first and rev["end"] >= after] or revisions[:1]
        for rev in window:
            rev["locks"].append({"table": table, "mode": mode, "held_s": round(max(last, first) - first, 3)})
    for rev in revisions:
        del rev["start"], rev["end"]


def measure_galaxy(base: str) -> dict:
    db, copy_s = _copy(base, f"{base}_galaxy")
    env = {**os.environ, GALAXY_DB_OVERRIDE_ENV: db.secret()}
    with Watch(db) as watch:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", GALAXY_UPGRADE], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
    _drop(db)
    if result.returncode != 0:
        raise SystemExit(f"Galaxy's upgrade failed: {result.stderr[-2000:]}")
    revisions, start, done = per_revision(result.stdout.splitlines())
    _attribute_locks(revisions, watch.sampler, done)
    return {
        "template_copy_s": round(copy_s, 3),
        "wall_s": round(wall, 3),
        "migrations_s": round(done - start, 3),
        "revisions": revisions,
        "longest_block_s": watch.longest_blocks(),
    }


def locks_per_revision(base: str, revisions: list[str]) -> dict[str, list[dict]]:
    """The locks each revision takes: every revision alone, one Galaxy call each, on a copy.

    In Galaxy's single run every lock is held to the end and revisions take milliseconds,
    shorter than the sampler's period, so "first seen during" blurs which revision took it.
    Here each call commits before the next starts: a lock seen during a call is its revision's.
    """
    from runbooks.galaxy.commands import run_dbscript

    db, _ = _copy(base, f"{base}_locks")
    found = {}
    try:
        with Watch(db) as watch:
            for rid in revisions:
                before = {key: span[0] for key, span in watch.sampler.seen.items()}
                output = run_dbscript(db, "upgrade", revision=rid)
                time.sleep(0.1)  # one more sample: a lock taken at the very end is seen too
                if output.errors:
                    raise SystemExit(f"upgrade to {rid} failed: {output.errors[0]}")
                found[rid] = [
                    {"table": table, "mode": mode, "held_s": round(span[1] - span[0], 3)}
                    for (table, mode), span in sorted(watch.sampler.seen.items())
                    if (table, mode) not in before or span[0] != before[(table, mode)]
                ]
                watch.sampler.seen.clear()
    finally:
        _drop(db)
    return found


def merge_locks(revisions: list[dict], alone: dict[str, list[dict]]) -> None:
    """Each revision's locks: those its run alone saw, and the full run's that it may have taken.

    A revision alone can be too quick for the sampler, so not seeing a lock proves nothing. The
    full run misses none (it holds every lock to its end) but gives each to every revision of
    its window; when a run alone saw it in one of them, only that one keeps it.
    """
    saw = {(rev, lock["table"], lock["mode"]) for rev, locks in alone.items() for lock in locks}
    windows: dict[tuple[str, str], list[str]] = {}
    for rev in revisions:
        for lock in rev["locks"]:
            windows.setdefault((lock["table"], lock["mode"]), []).append(rev["revision"])
    for rev in revisions:
        rid, kept = rev["revision"], []
        for lock in rev["locks"]:
            window = windows[(lock["table"], lock["mode"])]
            confirmed = [other for other in window if (other, lock["table"], lock["mode"]) in saw]
            if not confirmed or rid in confirmed:
                kept.append({**lock, "seen": "alone" if rid in confirmed else "full run"})
        known = {(lock["table"], lock["mode"]) for lock in kept}
        kept += [{**lock, "seen": "alone"} for lock in alone.get(rid, []) if (lock["table"], lock["mode"]) not in known]
        rev["locks"] = kept


def _ours(arguments: list[str], db: DatabaseUrl) -> float:
    started = time.perf_counter()
    result = subprocess.run([*arguments, "--db", db.secret()], cwd=PROJECT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(arguments[3:])} failed: {result.stdout[-2000:]} {result.stderr[-1000:]}")
    return wall


def measure_ours(base: str) -> dict:
    db, _ = _copy(base, f"{base}_ours")
    with Watch(db) as watch:
        wall = _ours(OURS, db)
    _drop(db)
    return {"wall_s": round(wall, 3), "longest_block_s": watch.longest_blocks()}


def measure_rehearsal(base: str) -> float:
    """``upgrade --rehearse`` on the base itself: it makes (and drops) its own copy; the base is unchanged."""
    return round(_ours(REHEARSE, SERVER.with_database(base)), 3)


def measure_copies(base: str) -> dict:
    """CREATE DATABASE ... TEMPLATE with each strategy, each copy dropped before the next."""
    times = {}
    for strategy in ("WAL_LOG", "FILE_COPY"):
        db, seconds = _copy(base, f"{base}_copy", strategy)
        _drop(db)
        times[f"{strategy.lower()}_s"] = round(seconds, 3)
    return times


def measure_backup(base: str) -> dict:
    """pg_dump of the base, then (the base dropped, so two copies never coexist) pg_restore of it."""
    with tempfile.TemporaryDirectory(prefix="scale-backup-") as folder:
        started = time.perf_counter()
        backup = make_backup(SERVER.with_database(base), Path(folder))
        backup_s = time.perf_counter() - started
        size = backup.path.stat().st_size
        _drop(SERVER.with_database(base))
        target = SERVER.with_database(f"{base}_restored")
        _drop(target)
        started = time.perf_counter()
        load_dump(backup.path, target)
        restore_s = time.perf_counter() - started
    _drop(target)
    return {"backup_s": round(backup_s, 3), "dump_bytes": size, "restore_s": round(restore_s, 3)}


def _median_run(runs: list[dict], key: str) -> dict:
    ordered = sorted(runs, key=lambda run: run[key])
    return ordered[(len(ordered) - 1) // 2]


def _longest(runs: list[dict]) -> dict[str, float]:
    return {probe: max(run["longest_block_s"][probe] for run in runs) for probe in runs[0]["longest_block_s"]}


def summarize(galaxy_runs: list[dict], ours_runs: list[dict], rehearsals: list[float]) -> dict:
    """Medians (and every run) of the turns; the revisions and locks of Galaxy's median run."""
    galaxy = dict(_median_run(galaxy_runs, "migrations_s"))
    galaxy["wall_s"] = round(statistics.median(run["wall_s"] for run in galaxy_runs), 3)
    galaxy["walls_s"] = [run["wall_s"] for run in galaxy_runs]
    galaxy["migrations_runs_s"] = [run["migrations_s"] for run in galaxy_runs]
    galaxy["longest_block_s"] = _longest(galaxy_runs)
    ours_wall = round(statistics.median(run["wall_s"] for run in ours_runs), 3)
    ours = {
        "wall_s": ours_wall,
        "walls_s": [run["wall_s"] for run in ours_runs],
        "longest_block_s": _longest(ours_runs),
    }
    rehearsal = {"wall_s": round(statistics.median(rehearsals), 3), "walls_s": rehearsals}
    ratios = {
        "ours_to_galaxy": round(ours_wall / galaxy["wall_s"], 3),
        "ours_to_galaxy_per_turn": [
            round(o["wall_s"] / g["wall_s"], 3) for g, o in zip(galaxy_runs, ours_runs, strict=True)
        ],
        "rehearsal_to_upgrade": round(rehearsal["wall_s"] / ours_wall, 3),
    }
    return {"galaxy": galaxy, "ours": ours, "rehearsal": rehearsal, "ratios": ratios}


def _base(scale: str, base: str, made_report: str | None) -> dict:
    if made_report:  # bench/scale.py already made the base and printed this report
        return json.loads(Path(made_report).read_text())
    return make(SERVER.with_database(base), SCALES[scale], say=lambda text: None)


def measure(scale: str, repeats: int = 3, made_report: str | None = None) -> dict:
    base = f"scale_{scale}"
    print(f"[{scale}] {'reusing' if made_report else 'making'} {SCALES[scale].jobs} jobs", flush=True)
    made = _base(scale, base, made_report)
    sizes = table_sizes(SERVER.with_database(base))
    copies = measure_copies(base)
    print(f"[{scale}] {made['bytes'] / 1e9:.1f} GB; copies {copies}", flush=True)
    galaxy_runs, ours_runs, rehearsals = [], [], []
    for turn in range(repeats):
        galaxy_runs.append(measure_galaxy(base))
        ours_runs.append(measure_ours(base))
        rehearsals.append(measure_rehearsal(base))
        print(
            f"[{scale}] turn {turn + 1}: Galaxy {galaxy_runs[-1]['wall_s']}s, ours {ours_runs[-1]['wall_s']}s, "
            f"rehearsal {rehearsals[-1]}s",
            flush=True,
        )
    summary = summarize(galaxy_runs, ours_runs, rehearsals)
    revisions = summary["galaxy"]["revisions"]
    merge_locks(revisions, locks_per_revision(base, [rev["revision"] for rev in revisions]))
    backup = measure_backup(base)
    print(f"[{scale}] backup {backup}", flush=True)
    report = {"scale": scale, "generator": made, "table_sizes": sizes, **summary}
    report["rehearsal_copy"] = {
        "template_s": copies["file_copy_s"],
        **copies,
        "dump_restore_s": round(backup["backup_s"] + backup["restore_s"], 3),
    }
    report["backup"] = backup
    report["machine"] = f"{os.cpu_count()} cores, shared with other work; {repeats} turn(s) each, medians"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scale_{scale}.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def more_turns(scale: str, repeats: int) -> dict:
    """More turns on a base ``bench/scale.py`` made again, added to the committed report; base dropped after."""
    path = RESULTS / f"scale_{scale}.json"
    report, base = json.loads(path.read_text()), f"scale_{scale}"
    galaxy, ours, rehearsal = report["galaxy"], report["ours"], report["rehearsal"]
    for turn in range(repeats):
        galaxy_run, ours_run = measure_galaxy(base), measure_ours(base)
        galaxy["walls_s"].append(galaxy_run["wall_s"])
        galaxy["migrations_runs_s"].append(galaxy_run["migrations_s"])
        ours["walls_s"].append(ours_run["wall_s"])
        rehearsal["walls_s"].append(measure_rehearsal(base))
        for mine, run in ((galaxy, galaxy_run), (ours, ours_run)):
            mine["longest_block_s"] = _longest([mine, run])
        print(
            f"[{scale}] extra turn {turn + 1}: Galaxy {galaxy_run['wall_s']}s, ours {ours_run['wall_s']}s", flush=True
        )
    _drop(SERVER.with_database(base))
    for mine in (galaxy, ours, rehearsal):
        mine["wall_s"] = round(statistics.median(mine["walls_s"]), 3)
    report["ratios"] = {
        "ours_to_galaxy": round(ours["wall_s"] / galaxy["wall_s"], 3),
        "ours_to_galaxy_per_turn": [round(o / g, 3) for g, o in zip(galaxy["walls_s"], ours["walls_s"], strict=True)],
        "rehearsal_to_upgrade": round(rehearsal["wall_s"] / ours["wall_s"], 3),
    }
    report["machine"] = f"{os.cpu_count()} cores, shared with other work; {len(ours['walls_s'])} turn(s) each, medians"
    path.write_text(json.dumps(report, indent=1) + "\n")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="*", default=["small", "medium", "heldout"])
    parser.add_argument("--repeats", type=int, default=3, help="turns of Galaxy / ours / rehearsal (medians)")
    parser.add_argument("--made", metavar="JSON", help="one scale whose base bench/scale.py made: its report")
    parser.add_argument("--more-turns", action="store_true", help="add turns to a committed report (base remade)")
    args = parser.parse_args()
    if (args.made or args.more_turns) and len(args.scales) != 1:
        parser.error("--made and --more-turns go with exactly one scale")
    if args.more_turns:
        more_turns(args.scales[0], args.repeats)
        return
    for name in args.scales:
        measure(name, args.repeats, args.made)


if __name__ == "__main__":
    main()
