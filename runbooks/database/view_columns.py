"""The columns of a database's views, and of the query a view should have been made from: read only."""

from __future__ import annotations

import sqlite3

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl

LIST = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'view'",
    "postgresql": "SELECT viewname FROM pg_views WHERE schemaname = current_schema()",
}


def database_views(db: DatabaseUrl) -> list[str]:
    return [row[0] for row in _run(db, [LIST[db.dialect]])[0] or []]


def columns_of(db: DatabaseUrl, queries: list[str]) -> list[list[str] | None]:
    """The result columns of each query (run with LIMIT 0), None for a query the database rejects."""
    return _run(db, [f"SELECT * FROM ({query}) AS probe LIMIT 0" for query in queries], columns=True)


def _run(db: DatabaseUrl, queries: list[str], columns: bool = False) -> list:
    results = []
    if db.is_sqlite:
        conn = sqlite3.connect(f"{db.sqlite_path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            for query in queries:
                try:
                    cursor = conn.execute(query)
                    results.append([c[0] for c in cursor.description] if columns else cursor.fetchall())
                except sqlite3.Error:
                    results.append(None)
        finally:
            conn.close()
        return results
    import psycopg2

    with read_only_cursor(db) as cursor:
        for query in queries:
            try:
                cursor.execute(query)
                results.append([c[0] for c in cursor.description] if columns else cursor.fetchall())
            except psycopg2.Error:
                results.append(None)  # autocommit: the next query runs in a fresh transaction
    return results
