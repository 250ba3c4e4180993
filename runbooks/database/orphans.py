"""Rows whose foreign-key values point nowhere, for every foreign key the database declares.

The list of foreign keys comes from the database itself (SQLite ``pragma_foreign_key_list``,
PostgreSQL ``pg_constraint``), so nothing imports Galaxy's model. SQLite does not enforce
foreign keys unless a connection turns them on (Galaxy does not), so every declared key is
checked there. PostgreSQL enforces a validated constraint, so by default only the keys it does
not guarantee are checked: constraints added ``NOT VALID`` and those whose triggers were
disabled (``ALTER TABLE ... DISABLE TRIGGER ALL``, data-only restores); ``every_key=True``
checks them all.

Each check is one anti-join using the parent's primary key index, read-only.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    name: str | None = None
    nullable: bool = True
    guaranteed: bool = False  # the database enforces it (PostgreSQL, validated, triggers on)

    def describe(self) -> str:
        return f"{self.table}({', '.join(self.columns)}) -> {self.parent}({', '.join(self.parent_columns)})"


@dataclass(frozen=True)
class Orphans:
    key: ForeignKey
    count: int
    sample: tuple  # ids (or key values) of a few orphan rows
    sample_column: str
    cleanup: str

    def describe(self) -> str:
        shown = ", ".join(map(str, self.sample)) + (" …" if self.count > len(self.sample) else "")
        return f"{self.count} row(s) of {self.key.describe()} point nowhere ({self.sample_column} {shown})"

    def to_json(self) -> dict:
        return {
            "table": self.key.table,
            "columns": list(self.key.columns),
            "parent": self.key.parent,
            "parent_columns": list(self.key.parent_columns),
            "constraint": self.key.name,
            "count": self.count,
            "sample": list(self.sample),
            "sample_column": self.sample_column,
            "cleanup": self.cleanup,
        }


@dataclass
class OrphanReport:
    checked: int
    skipped_enforced: int
    orphans: list[Orphans] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(o.count for o in self.orphans)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _condition(key: ForeignKey) -> str:
    not_null = " AND ".join(f"c.{_q(col)} IS NOT NULL" for col in key.columns)
    match = " AND ".join(f"p.{_q(pc)} = c.{_q(col)}" for col, pc in zip(key.columns, key.parent_columns, strict=True))
    return f"{not_null} AND NOT EXISTS (SELECT 1 FROM {_q(key.parent)} p WHERE {match})"


def cleanup_sql(key: ForeignKey) -> str:
    """The statement that removes the dangling references (review it; back up first)."""
    where = _condition(key).replace("c.", f"{_q(key.table)}.")
    if key.nullable:
        assignments = ", ".join(f"{_q(col)} = NULL" for col in key.columns)
        return f"UPDATE {_q(key.table)} SET {assignments} WHERE {where};"
    return f"DELETE FROM {_q(key.table)} WHERE {where};"


# -- the foreign keys, from the database's own catalogue -------------------------------


_SQLITE_KEYS = """
SELECT m.name, p.id, p."table", p."from", p."to"
FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) p
WHERE m.type = 'table' ORDER BY m.name, p.id, p.seq
"""


def _sqlite_keys(conn: sqlite3.Connection) -> list[ForeignKey]:
    grouped: dict[tuple[str, int], list] = {}
    for table, key_id, parent, column, parent_column in conn.execute(_SQLITE_KEYS):
        grouped.setdefault((table, key_id), []).append((parent, column, parent_column))
    notnull_cache: dict[str, dict[str, bool]] = {}
    pk_cache: dict[str, list[str]] = {}

    def info(table: str):
        if table not in notnull_cache:
            rows = conn.execute('SELECT name, "notnull", pk FROM pragma_table_info(?)', (table,)).fetchall()
            notnull_cache[table] = {name: bool(notnull) for name, notnull, _ in rows}
            pk_cache[table] = [name for name, _, pk in sorted(rows, key=lambda r: r[2]) if pk]
        return notnull_cache[table], pk_cache[table]

    keys = []
    for (table, _), parts in grouped.items():
        parent = parts[0][0]
        columns = tuple(p[1] for p in parts)
        parent_columns = tuple(p[2] for p in parts)
        if any(pc is None for pc in parent_columns):  # REFERENCES parent: its primary key
            parent_columns = tuple(info(parent)[1])
        notnull = info(table)[0]
        keys.append(ForeignKey(table, columns, parent, parent_columns, None, not any(notnull.get(c) for c in columns)))
    return keys


_PG_KEYS = """
SELECT c.conname, cl.relname, pl.relname,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attnotnull FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       c.convalidated,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgconstraint = c.oid AND t.tgenabled = 'D')
FROM pg_constraint c
JOIN pg_class cl ON cl.oid = c.conrelid
JOIN pg_class pl ON pl.oid = c.confrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
WHERE c.contype = 'f' AND n.nspname = ANY (current_schemas(false))
ORDER BY cl.relname, c.conname
"""


def _pg_keys(cursor) -> list[ForeignKey]:
    cursor.execute(_PG_KEYS)
    return [
        ForeignKey(
            table,
            tuple(columns),
            parent,
            tuple(parent_columns),
            name,
            not any(notnull),
            guaranteed=bool(validated) and not disabled,
        )
        for name, table, parent, columns, parent_columns, notnull, validated, disabled in cursor.fetchall()
    ]


def foreign_keys(db: DatabaseUrl) -> list[ForeignKey]:
    if db.is_sqlite:
        conn = _sqlite_readonly(db)
        try:
            return _sqlite_keys(conn)
        finally:
            conn.close()
    with read_only_cursor(db, "galaxy-runbooks-doctor") as cursor:
        return _pg_keys(cursor)


def _sqlite_readonly(db: DatabaseUrl) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.sqlite_path.as_uri()}?mode=ro", uri=True, timeout=5)


# -- counting -----------------------------------------------------------------------


def _check(execute, key: ForeignKey, has_id: bool) -> Orphans | None:
    where = _condition(key)
    count = execute(f"SELECT COUNT(*) FROM {_q(key.table)} c WHERE {where}")[0][0]
    if not count:
        return None
    shown = "id" if has_id else key.columns[0]
    rows = execute(f"SELECT c.{_q(shown)} FROM {_q(key.table)} c WHERE {where} ORDER BY 1 LIMIT {SAMPLE_SIZE}")
    return Orphans(key, int(count), tuple(row[0] for row in rows), shown, cleanup_sql(key))


def find_orphans(db: DatabaseUrl, every_key: bool = False, tables: set[str] | None = None) -> OrphanReport:
    """Orphan rows for each foreign key (see the module docstring for which keys are checked)."""
    if db.is_sqlite:
        conn = _sqlite_readonly(db)
        try:
            keys = _sqlite_keys(conn)

            def execute(sql):
                return conn.execute(sql).fetchall()

            def has_id(table):
                return any(r[0] == "id" for r in conn.execute("SELECT name FROM pragma_table_info(?)", (table,)))

            return _run(keys, execute, has_id, every_key=True, tables=tables)
        finally:
            conn.close()
    with read_only_cursor(db, "galaxy-runbooks-doctor") as cursor:
        keys = _pg_keys(cursor)

        def execute(sql):
            cursor.execute(sql)
            return cursor.fetchall()

        def has_id(table):
            cursor.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'id' "
                "AND table_schema = ANY (current_schemas(false))",
                (table,),
            )
            return cursor.fetchone() is not None

        return _run(keys, execute, has_id, every_key, tables)


def _run(keys, execute, has_id, every_key: bool, tables) -> OrphanReport:
    chosen = [k for k in keys if (every_key or not k.guaranteed) and (tables is None or k.table in tables)]
    report = OrphanReport(checked=len(chosen), skipped_enforced=len(keys) - len(chosen) if tables is None else 0)
    id_cache: dict[str, bool] = {}
    for key in chosen:
        if key.table not in id_cache:
            id_cache[key.table] = has_id(key.table)
        found = _check(execute, key, id_cache[key.table])
        if found:
            report.orphans.append(found)
    return report
