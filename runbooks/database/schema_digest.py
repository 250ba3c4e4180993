"""A digest of everything Alembic's ``compare_metadata`` reads from a schema: equal digests, equal comparison.

SQLite: every row of ``sqlite_master`` (its SQL is the whole definition). PostgreSQL: the columns
(type, nullability, default, comment), table comments, index definitions and constraint definitions
of the schemas in the search path. Read only.
"""

from __future__ import annotations

import hashlib
import sqlite3

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl

SQLITE = "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name"
IN_PATH = "n.nspname = ANY (current_schemas(false))"
POSTGRESQL = [
    "SELECT c.relname, c.relkind, coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c "
    f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {IN_PATH} ORDER BY 1, 2",
    "SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), coalesce(col_description(c.oid, a.attnum), '') "
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    f"WHERE {IN_PATH} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2",
    f"SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {IN_PATH} ORDER BY 1",
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(co.oid) FROM pg_constraint co "
    f"JOIN pg_namespace n ON n.oid = co.connamespace WHERE {IN_PATH} ORDER BY 1, 2",
]


def schema_digest(db: DatabaseUrl) -> str:
    digest = hashlib.sha256()
    for rows in _rows(db):
        digest.update(repr(rows).encode())
    return digest.hexdigest()


def _rows(db: DatabaseUrl) -> list[list[tuple]]:
    if db.is_sqlite:
        conn = sqlite3.connect(f"{db.sqlite_path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return [conn.execute(SQLITE).fetchall()]
        finally:
            conn.close()
    found = []
    with read_only_cursor(db) as cursor:
        for query in POSTGRESQL:
            cursor.execute(query)
            found.append(cursor.fetchall())
    return found
