"""`troubleshoot --json` against Galaxy's own `dbversion` on a healthy sample; orphan checks on 1M rows.

Run: .venv/bin/python bench/doctor_vs_galaxy.py [--repeat N] [--rows N] [--pg URL] [--drift]
1. The doctor (default checks: no rehearsal because the database is at head, no drift) and
   Galaxy's `dbversion`, each in a fresh interpreter on the same Galaxy-made SQLite database at
   head. Budget: the doctor within 1.5x of `dbversion`.
2. Foreign-key orphans on a database with a million-row table: `history` gets N rows (1% of
   them pointing at users that do not exist), `job` gets N rows pointing at those histories;
   the orphan check over every foreign key is timed (SQLite; PostgreSQL too with --pg, where
   the history key's triggers are disabled so that it is checked, as the doctor does).
"""

from __future__ import annotations

import argparse
import sqlite3
import time

from common import copy, galaxy, median, ours, sample, scratch_folder, timed

HISTORY = (
    "INSERT INTO history (id, user_id, create_time, update_time, deleted, purged, importing, published) "
    "SELECT value, CASE WHEN value % 100 = 0 THEN 1000000 + value ELSE 1 END, '2025-01-01', '2025-01-01', "
    "false, false, false, false FROM {series}"
)
JOB = (
    "INSERT INTO job (id, history_id, create_time, update_time, tool_id, state, imported) "
    "SELECT value, value, '2025-01-01', '2025-01-01', 'cat1', 'ok', false FROM {series}"
)
USER = (
    "INSERT INTO galaxy_user (id, email, password, create_time, update_time, deleted, purged, active) "
    "VALUES (1, 'a@example.org', 'x', '2025-01-01', '2025-01-01', false, false, true)"
)


def doctor_vs_dbversion(folder, repeat: int, drift: bool = False) -> None:
    url = f"sqlite:///{sample(None, folder)}"
    galaxy_times = [timed(galaxy("dbversion", url), url) for _ in range(repeat)]
    extra = ["--drift"] if drift else []
    if drift:  # the reference databases are made once per code and dialect, then cached: warm the cache
        timed(ours("troubleshoot", "--json", *extra, "--db", url))
    our_times = [timed(ours("troubleshoot", "--json", *extra, "--db", url)) for _ in range(repeat)]
    g, o = median(galaxy_times), median(our_times)
    label = "troubleshoot --drift" if drift else "troubleshoot"
    print(f"database: {url} (Galaxy-made, at head, healthy)")
    print(f"Galaxy dbversion:           {g:.2f} s (median of {repeat})")
    print(f"runbooks {label}: {o:.2f} s (median of {repeat}{', reference databases cached' if drift else ''})")
    print(f"ratio: doctor / dbversion = {o / g:.2f} (budget: at most 1.5)")


def _not_null_columns_sqlite(conn, table):
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[3] and r[4] is None and not r[5]]


def orphans_sqlite(folder, rows: int) -> None:
    from runbooks.database.orphans import find_orphans
    from runbooks.database.urls import DatabaseUrl

    url = copy(sample(None, folder), folder, "orphans-1m.sqlite")
    db = DatabaseUrl.parse(url)
    conn = sqlite3.connect(db.sqlite_path, isolation_level=None)
    series = (
        f"(WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < {rows}) "
        "SELECT value FROM s)"
    )
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute(USER)
    conn.execute(HISTORY.format(series=series))
    missing = [c for c in _not_null_columns_sqlite(conn, "job") if c not in JOB]
    if missing:
        raise SystemExit(f"job has NOT NULL columns without default the bench does not fill: {missing}")
    conn.execute(JOB.format(series=series))
    conn.execute("COMMIT")
    conn.close()
    print(
        f"\nSQLite: {rows} histories + {rows} jobs inserted in {time.perf_counter() - started:.1f} s "
        f"({db.sqlite_path.stat().st_size / 1e6:.0f} MB)"
    )
    _time_orphans(lambda: find_orphans(db), rows)


def orphans_postgresql(pg: str, folder, rows: int) -> None:
    import uuid

    from runbooks.database.orphans import find_orphans
    from runbooks.database.scratch import drop_database
    from runbooks.database.urls import DatabaseUrl
    from runbooks.tasks.samples import make_sample
    from runbooks.testing.scratch_states import execute_sql

    db = DatabaseUrl.parse(pg).with_database(f"runbooks_bench_orphans_{uuid.uuid4().hex[:6]}")
    try:
        make_sample(db)
        series = f"generate_series(1, {rows}) AS value"
        started = time.perf_counter()
        execute_sql(db, ["ALTER TABLE history DISABLE TRIGGER ALL", USER, HISTORY.format(series=series),
                         JOB.format(series=series), "ANALYZE"])  # fmt: skip
        print(f"\nPostgreSQL: {rows} histories + {rows} jobs inserted in {time.perf_counter() - started:.1f} s")
        _time_orphans(lambda: find_orphans(db), rows, "keys the database does not enforce")
        _time_orphans(lambda: find_orphans(db, every_key=True), rows, "every key (--every-foreign-key)")
    finally:
        drop_database(db)


def _time_orphans(run, rows: int, label: str = "every key") -> None:
    started = time.perf_counter()
    report = run()
    elapsed = time.perf_counter() - started
    found = ", ".join(f"{o.key.table}.{o.key.columns[0]}: {o.count}" for o in report.orphans)
    print(f"orphan check ({label}): {report.checked} keys in {elapsed:.2f} s; orphans: {found or 'none'}")
    expected = rows // 100
    if not any(o.key.table == "history" and o.count == expected for o in report.orphans):
        raise SystemExit(f"expected {expected} orphan histories, found: {found}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", metavar="URL", help="also bench orphans on this PostgreSQL server")
    parser.add_argument("--drift", action="store_true", help="also time troubleshoot --drift (baseline cached)")
    args = parser.parse_args()
    folder = scratch_folder()
    doctor_vs_dbversion(folder, args.repeat)
    if args.drift:
        doctor_vs_dbversion(folder, args.repeat, drift=True)
    orphans_sqlite(folder, args.rows)
    if args.pg:
        orphans_postgresql(args.pg, folder, args.rows)


if __name__ == "__main__":
    main()
