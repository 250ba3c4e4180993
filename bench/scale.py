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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_data import TABLES, Volume  # noqa: E402

from runbooks.database.connections import connect_postgresql, run_admin_sql  # noqa: E402
from runbooks.database.urls import DatabaseUrl  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
RELEASE_DUMP = PROJECT / "tests" / "fixtures" / "releases" / "galaxy-data-25.0.4.postgresql.sql.gz"
SCALES = {"tiny": 2_000, "small": 20_000, "medium": 200_000, "heldout": 600_000, "large": 10_000_000}
CHUNK = 100_000

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


def make(db: DatabaseUrl, jobs: int, keep_indexes: bool = False, say=print) -> dict:
    """Make and fill the database; the phases' seconds, the row counts and the size."""
    timings, counts, started = {}, {}, time.perf_counter()
    restore_release(db)
    timings["restore_release_s"] = time.perf_counter() - started
    volume, tables = Volume(jobs), [name for name, _, _ in TABLES]
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
    return {"jobs": jobs, "rows": counts, "bytes": size, "keep_indexes": keep_indexes, "timings": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale", help=f"one of {', '.join(SCALES)} or a number of jobs")
    parser.add_argument("url", help="postgresql:// URL of the database to (re)create")
    parser.add_argument("--keep-indexes", action="store_true", help="load with the indexes and foreign keys in place")
    args = parser.parse_args()
    jobs = SCALES[args.scale] if args.scale in SCALES else int(args.scale)
    print(json.dumps(make(DatabaseUrl.parse(args.url), jobs, args.keep_indexes), indent=2))


if __name__ == "__main__":
    main()
