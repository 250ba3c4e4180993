"""A PostgreSQL database as release 25.0 left it, filled with production-like volume through COPY.

    python bench/scale.py small postgresql://postgres@127.0.0.1:5432/galaxy_small [--keep-indexes]

The schema is 25.0.4's own initialization (tests/fixtures/releases, made by that release's
``create_db.sh`` code); the rows and their proportions are ``bench/scale_data.py``'s. By
default the filled tables' secondary indexes and foreign keys are dropped before the load and
recreated afterwards from the release's own definitions (``pg_get_indexdef`` and
``pg_get_constraintdef`` read before dropping), which validates every foreign key; the
definitions are compared afterwards and must be identical. ``--keep-indexes`` loads with them.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_data import TABLES, Volume  # noqa: E402

from runbooks.database.connections import connect_postgresql, run_admin_sql  # noqa: E402
from runbooks.database.urls import DatabaseUrl  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
RELEASE_DUMP = PROJECT / "tests" / "fixtures" / "releases" / "galaxy-data-25.0.4.postgresql.sql.gz"
# The large scale keeps the core (10M jobs, 2 datasets each, their HDAs and job-dataset links)
# but fewer child rows per job: with the smaller scales' proportions it would be ~38 GB, and its
# measurement holds two copies at once (the base and a TEMPLATE copy) on a disk shared with other
# work (budget 40 GB at peak). Stated in the results and on the page.
LARGE = Volume(
    10_000_000,
    parameters_per_job=0,
    numeric_metrics_per_job=0,
    text_metrics_per_job=0,
    copied_hdas_per_ten_datasets=0,
    inputs_per_two_jobs=1,
    elements_per_collection=5,
)
SCALES = {
    "tiny": Volume(2_000),
    "small": Volume(20_000),
    "medium": Volume(200_000),
    "heldout": Volume(600_000),
    "large": LARGE,
}
# rows per COPY statement; each statement fires history_audit's statement triggers once, so
# the audit table gets one row per distinct history per chunk (as Galaxy's triggers make it)
CHUNK = 1_000_000

_DEFINITIONS_SQL = """
SELECT 'index', t.relname, c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = ANY(%(tables)s) AND t.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
UNION ALL
SELECT 'fk', t.relname, k.conname::text, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
WHERE k.contype = 'f' AND t.relname = ANY(%(tables)s) AND t.relnamespace = 'public'::regnamespace
ORDER BY 1, 2, 3
"""


def restore_release(db: DatabaseUrl) -> None:
    run_admin_sql(db.with_database("postgres"), f'DROP DATABASE IF EXISTS "{db.database_name}" WITH (FORCE)')
    run_admin_sql(db.with_database("postgres"), f'CREATE DATABASE "{db.database_name}"')
    url = db.url
    psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username]
    dump = gzip.open(RELEASE_DUMP).read()
    subprocess.run([*psql, "-d", db.database_name], input=dump, check=True, capture_output=True)


def definitions(cursor, tables: list[str]) -> list[tuple[str, str, str, str]]:
    cursor.execute(_DEFINITIONS_SQL, {"tables": tables})
    return [tuple(row) for row in cursor.fetchall()]


def drop(cursor, defs) -> None:
    for kind, table, name, _ in defs:
        if kind == "fk":
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        else:
            cursor.execute(f'DROP INDEX "{name}"')


def recreate(cursor, defs) -> None:
    for kind, _, _, definition in defs:
        if kind == "index":
            cursor.execute(definition)
    for kind, table, name, definition in defs:  # validates every row against its referenced table
        if kind == "fk":
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def copy_rows(cursor, table: str, columns: str, rows) -> int:
    count, buffer = 0, []
    for line in rows:
        buffer.append(line)
        if len(buffer) >= CHUNK:
            count += _flush(cursor, table, columns, buffer)
    return count + _flush(cursor, table, columns, buffer)


def _flush(cursor, table: str, columns: str, buffer: list[str]) -> int:
    n = len(buffer)
    if n:
        cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', io.StringIO("\n".join(buffer) + "\n"))
        buffer.clear()
    return n


def make(db: DatabaseUrl, volume: Volume, keep_indexes: bool = False, say=print) -> dict:
    """Make and fill the database; the phases' seconds, the row counts and the size."""
    timings, counts, started = {}, {}, time.perf_counter()
    restore_release(db)
    timings["restore_release_s"] = time.perf_counter() - started
    tables = [name for name, _, _ in TABLES]
    conn = connect_postgresql(db, application_name="scale-generator")
    conn.autocommit = True
    with conn.cursor() as cursor:
        before = definitions(cursor, tables)
        phase = time.perf_counter()
        if not keep_indexes:
            drop(cursor, before)
        for name, columns, rows in TABLES:
            counts[name] = copy_rows(cursor, name, columns, rows(volume))
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {max(counts[name], 1)})")
            say(f"  {name}: {counts[name]} rows")
        timings["copy_s"] = time.perf_counter() - phase
        phase = time.perf_counter()
        if not keep_indexes:
            recreate(cursor, before)
        timings["indexes_and_foreign_keys_s"] = time.perf_counter() - phase
        phase = time.perf_counter()
        cursor.execute("ANALYZE")
        timings["analyze_s"] = time.perf_counter() - phase
        if definitions(cursor, tables) != before:
            raise SystemExit("the indexes or foreign keys differ from the release's definitions")
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    conn.close()
    timings["total_s"] = time.perf_counter() - started
    proportions = {k: v for k, v in asdict(volume).items() if k != "jobs"}
    return {
        "jobs": volume.jobs,
        "proportions": proportions,
        "rows": counts,
        "bytes": size,
        "keep_indexes": keep_indexes,
        "timings": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale", help=f"one of {', '.join(SCALES)} or a number of jobs")
    parser.add_argument("url", help="postgresql:// URL of the database to (re)create")
    parser.add_argument("--keep-indexes", action="store_true", help="load with the indexes and foreign keys in place")
    args = parser.parse_args()
    volume = SCALES[args.scale] if args.scale in SCALES else Volume(int(args.scale))
    print(json.dumps(make(DatabaseUrl.parse(args.url), volume, args.keep_indexes), indent=2))


if __name__ == "__main__":
    main()
