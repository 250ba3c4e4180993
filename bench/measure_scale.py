"""Upgrade 25.0 -> head at a scale, measured: per revision, locks, probes, copies, backup.

    python bench/measure_scale.py small [medium ...]    # writes bench/results/scale_<name>.json

For each scale: ``bench/scale.py`` makes the filled 25.0 database once (the base); each run
works on a ``CREATE DATABASE ... TEMPLATE`` copy of it. Measured:

- Galaxy's own command (``DbScript().upgrade``, what ``manage_db.sh upgrade`` runs) in a fresh
  interpreter, with Alembic's "Running upgrade A -> B" lines time-stamped: a revision's time
  is from its line to the next one (the last one's includes the commit);
- ours, ``python -m runbooks upgrade --yes --no-backup``, its wall time;
- during both, the probes and the lock sampler of ``bench/probes.py``;
- the rehearsal copy (TEMPLATE) and the dump/restore fallback (``pg_dump -Fc`` as our backup
  writes it, ``pg_restore`` as the fallback loads it), and the database and dump sizes.
Nothing is averaged: one run each, on a machine shared with other work (say so when quoting).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _copy(base: str, name: str) -> tuple[DatabaseUrl, float]:
    run_admin_sql(SERVER, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    started = time.perf_counter()
    run_admin_sql(SERVER, f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
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
    """Each lock to the revision running when the sampler first saw it; held until the commit."""
    for rev in revisions:
        rev["locks"] = []
    for (table, mode), (first, last) in sorted(sampler.seen.items(), key=lambda item: item[1][0]):
        owner = [rev for rev in revisions if rev["start"] <= first] or revisions[:1]
        owner[-1]["locks"].append(
            {"table": table, "mode": mode, "held_s": round(max(last, first) - first, 3), "waited": False}
        )
    for rev in revisions:
        del rev["start"]


def measure_galaxy(base: str, name: str) -> dict:
    db, copy_s = _copy(base, f"{name}_galaxy")
    env = {**os.environ, "GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION": db.secret()}
    with Watch(db) as watch:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", GALAXY_UPGRADE], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"Galaxy's upgrade failed: {result.stderr[-2000:]}")
    revisions, start, done = per_revision(result.stdout.splitlines())
    _attribute_locks(revisions, watch.sampler, done)
    _drop(db)
    return {
        "template_copy_s": round(copy_s, 3),
        "wall_s": round(wall, 3),
        "migrations_s": round(done - start, 3),
        "revisions": revisions,
        "longest_block_s": watch.longest_blocks(),
    }


def measure_ours(base: str, name: str) -> dict:
    db, _ = _copy(base, f"{name}_ours")
    with Watch(db) as watch:
        started = time.perf_counter()
        result = subprocess.run(
            [*OURS, "--db", db.secret()],
            cwd=PROJECT,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"our upgrade failed: {result.stdout[-2000:]} {result.stderr[-1000:]}")
    _drop(db)
    return {"wall_s": round(wall, 3), "longest_block_s": watch.longest_blocks()}


def measure_backup(base: str, name: str) -> dict:
    db, _ = _copy(base, f"{name}_backup")
    with tempfile.TemporaryDirectory(prefix="scale-backup-") as folder:
        started = time.perf_counter()
        backup = make_backup(db, Path(folder))
        backup_s = time.perf_counter() - started
        size = backup.path.stat().st_size
        target = SERVER.with_database(f"{name}_restored")
        _drop(target)
        started = time.perf_counter()
        load_dump(backup.path, target)
        restore_s = time.perf_counter() - started
    _drop(target)
    _drop(db)
    return {"backup_s": round(backup_s, 3), "dump_bytes": size, "restore_s": round(restore_s, 3)}


def measure(scale: str) -> dict:
    jobs = SCALES[scale]
    base = f"scale_{scale}"
    print(f"[{scale}] making {jobs} jobs", flush=True)
    made = make(SERVER.with_database(base), jobs, say=lambda text: None)
    print(f"[{scale}] made in {made['timings']['total_s']:.1f}s; Galaxy's upgrade", flush=True)
    galaxy = measure_galaxy(base, base)
    print(f"[{scale}] Galaxy {galaxy['wall_s']}s; ours", flush=True)
    ours = measure_ours(base, base)
    print(f"[{scale}] ours {ours['wall_s']}s; backup and restore", flush=True)
    backup = measure_backup(base, base)
    report = {
        "scale": scale,
        "generator": made,
        "table_sizes": table_sizes(SERVER.with_database(base)),
        "galaxy": galaxy,
        "ours": ours,
        "rehearsal_copy": {
            "template_s": galaxy["template_copy_s"],
            "dump_restore_s": round(backup["backup_s"] + backup["restore_s"], 3),
        },
        "backup": backup,
        "machine": f"{os.cpu_count()} cores, shared with other work; one run each",
    }
    _drop(SERVER.with_database(base))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scale_{scale}.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    for name in sys.argv[1:] or ["small", "medium"]:
        measure(name)
