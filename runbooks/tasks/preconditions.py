"""Data preconditions a copy without some tables' rows cannot show, checked read-only on the live database.

After the upgrade ran on a copy that holds the schema of every table but the rows of some only,
the copy's catalog is compared with the live one. For a table that has rows on the live database
but none on the copy, each new demand on its rows becomes a read-only query on the live database:

- a column that became NOT NULL: no NULL in it (a new NOT NULL column without a default: no row);
- a new unique index or constraint (plain columns): no two rows with the same non-NULL values;
- a new validated foreign key: no row whose non-NULL key is missing from the referenced table;
- a new CHECK constraint: no row for which the check is false;
- a column whose type changed: every value converts (for ``varchar(n)``/``char(n)``: no longer value).

A query that counts rows proves its condition (0) or names the failure (the count, plus the
database's own error for a value that does not convert). What cannot be put as a query here (an
expression or partial index, a key into a table the revisions write) is returned as ``needs_rows``:
the caller copies that table's rows and rehearses again. Each query runs in a read-only session
with the tool's lock and statement timeouts; a query that times out is not a proof either.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = current_schema()
"""
_UNIQUE = """
SELECT t.relname, regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE UNIQUE INDEX \\S+ ON ', ''),
       i.indexprs IS NULL AND i.indpred IS NULL,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) k JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE i.indisunique AND n.nspname = current_schema()
"""
_CONSTRAINTS = """
SELECT t.relname, k.contype::text, pg_get_constraintdef(k.oid), k.convalidated, f.relname,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o),
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o)
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class f ON f.oid = k.confrelid
WHERE k.contype IN ('f', 'c') AND n.nspname = current_schema()
"""
_LENGTH_TYPE = re.compile(r"^(character varying|character|bit varying|bit)\((\d+)\)$")


@dataclass
class Precondition:
    table: str
    kind: str  # "not null", "unique", "foreign key", "check", "type"
    what: str  # the demand, in words
    query: str  # read-only, counts the rows that break it
    rows: int | None = None  # the count on the live database (None: not run, or it failed)
    error: str = ""  # the database's error (a value that does not convert), or why it was not checked

    @property
    def holds(self) -> bool:
        return self.rows == 0 and not self.error

    def describe(self) -> str:
        if self.holds:
            verdict = "holds (0 rows)"
        elif self.rows:
            verdict = f"FAILS: {self.rows} row(s)"
        else:
            verdict = f"FAILS: {self.error}"
        return f"{self.table}: {self.what}: {verdict}\n      {self.query}"

    def to_json(self) -> dict:
        return asdict(self) | {"holds": self.holds}


def catalog(db: DatabaseUrl) -> dict:
    """The columns, unique indexes and constraints of the tables in the database's current schema."""
    with read_only_cursor(db) as cursor:
        cursor.execute(_COLUMNS)
        columns = {(t, c): (kind, notnull, hasdef) for t, c, kind, notnull, hasdef in cursor.fetchall()}
        cursor.execute(_UNIQUE)
        unique = {(t, definition): (plain, list(cols)) for t, definition, plain, cols in cursor.fetchall()}
        cursor.execute(_CONSTRAINTS)
        constraints = {(t, kind, d): (valid, ref, list(cols), list(rcols)) for t, kind, d, valid, ref, cols, rcols
                       in cursor.fetchall()}  # fmt: skip
    return {"columns": columns, "unique": unique, "constraints": constraints}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def derive(before: dict, after: dict, uncopied: set[str], written: set[str]) -> tuple[list[Precondition], set[str]]:
    """The preconditions on the ``uncopied`` tables (live rows, none on the copy), and the tables that need rows."""
    found: list[Precondition] = []
    needs_rows: set[str] = set()
    for (table, column), (kind, notnull, hasdef) in after["columns"].items():
        if table not in uncopied:
            continue
        old = before["columns"].get((table, column))
        if old is None:
            if notnull and not hasdef:
                found.append(Precondition(table, "not null", f"new column {column} NOT NULL without a default: "
                                          "the table must be empty", f"SELECT count(*) FROM (SELECT 1 FROM {_q(table)} "
                                          "LIMIT 1) AS any_row"))  # fmt: skip
            continue
        if notnull and not old[1]:
            found.append(Precondition(table, "not null", f"{column} becomes NOT NULL: no NULL in it",
                                      f"SELECT count(*) FROM {_q(table)} WHERE {_q(column)} IS NULL"))  # fmt: skip
        if kind != old[0]:
            found.append(_type_change(table, column, old[0], kind))
    for (table, definition), (plain, columns) in after["unique"].items():
        if table not in uncopied or (table, definition) in before["unique"]:
            continue
        if not plain or any((table, c) not in before["columns"] for c in columns):
            needs_rows.add(table)
            continue
        cols = ", ".join(_q(c) for c in columns)
        nonnull = " AND ".join(f"{_q(c)} IS NOT NULL" for c in columns)
        found.append(Precondition(table, "unique", f"new unique index ({', '.join(columns)}): no duplicates",
                                  f"SELECT count(*) FROM (SELECT {cols} FROM {_q(table)} WHERE {nonnull} "
                                  f"GROUP BY {cols} HAVING count(*) > 1) AS duplicates"))  # fmt: skip
    for (table, kind, definition), (valid, ref, cols, rcols) in after["constraints"].items():
        if table not in uncopied or (table, kind, definition) in before["constraints"] or not valid:
            continue
        if kind == "c":
            found.append(
                Precondition(
                    table,
                    "check",
                    f"new {definition}: no row breaks it",
                    f"SELECT count(*) FROM {_q(table)} WHERE NOT ({definition[len('CHECK ') :]})",
                )
            )
            continue
        if (
            ref in written
            or ref not in {t for t, _ in before["columns"]}
            or any((table, c) not in before["columns"] for c in cols)
        ):
            needs_rows.add(table)  # the referenced rows change during the plan, or do not exist yet
            continue
        nonnull = " AND ".join(f"c.{_q(c)} IS NOT NULL" for c in cols)
        match = " AND ".join(f"p.{_q(r)} = c.{_q(c)}" for c, r in zip(cols, rcols, strict=True))
        found.append(Precondition(table, "foreign key", f"new {definition}: no orphan",
                                  f"SELECT count(*) FROM {_q(table)} AS c WHERE {nonnull} AND NOT EXISTS "
                                  f"(SELECT 1 FROM {_q(ref)} AS p WHERE {match})"))  # fmt: skip
    return found, needs_rows


def _type_change(table: str, column: str, old: str, new: str) -> Precondition:
    length = _LENGTH_TYPE.match(new)
    what = f"{column} changes type {old} -> {new}: every value converts"
    if length:  # an explicit cast would cut the value; ALTER ... TYPE refuses it
        query = f"SELECT count(*) FROM {_q(table)} WHERE length({_q(column)}::text) > {length.group(2)}"
    else:  # the cast raises for a value that does not convert (the ALTER would raise the same)
        query = (
            f"SELECT count(*) FROM {_q(table)} WHERE CAST({_q(column)} AS {new}) IS NULL AND {_q(column)} IS NOT NULL"
        )
    return Precondition(table, "type", what, query)


def check(db: DatabaseUrl, preconditions: list[Precondition]) -> set[str]:
    """Run each query read-only on ``db``; returns the tables whose check could not run (they need rows)."""
    import psycopg2

    unchecked: set[str] = set()
    if not preconditions:
        return unchecked
    with read_only_cursor(db, application_name="galaxy-runbooks-preconditions") as cursor:
        for item in preconditions:
            try:
                cursor.execute(item.query)
                item.rows = int(cursor.fetchone()[0])
            except psycopg2.DataError as error:  # class 22: a value that does not convert, a real failure
                item.error = str(error).strip().splitlines()[0]
            except psycopg2.Error as error:  # a timeout, a name that is not there yet: not a proof
                item.error = "not checked: " + (str(error).strip().splitlines() or ["error"])[0]
                unchecked.add(item.table)
    return unchecked
