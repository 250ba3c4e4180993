"""Explaining why a migration failed, from the real database error, and what gets out of it.

Not the doctor's ``diagnose`` (which examines a database): this reads the error a migration
already raised and names its cause and way out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runbooks.tasks.printed_commands import DatabaseArgs, command_line


@dataclass(frozen=True)
class FailureExplanation:
    cause: str
    fix: str  # what to do; never a statement that drops, alters or deletes (those go in ``sql``)
    sql: tuple[str, ...] = ()  # the statements that would remove the cause: printed only once proven on a copy


def _troubleshoot(database: DatabaseArgs | None) -> str:
    return f"`{command_line('troubleshoot', database=database)}`"


def _index_on_dropped_column(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    match = re.search(r"no such column: (\w+).*?CREATE (?:UNIQUE )?INDEX (\w+) ON (\w+)", error, re.S)
    if not match:
        return None
    column, index, table = match.groups()
    return FailureExplanation(
        f"index {index} on {table}.{column} survives from an older release's create_all; SQLite's batch "
        f"rebuild of {table} tries to re-create it after the column is gone",
        "remove the index before the upgrade",
        (f"DROP INDEX IF EXISTS {index};", f"DROP TABLE IF EXISTS _alembic_tmp_{table};"),
    )


def _leftover_batch_table(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    match = re.search(r"table (_alembic_tmp_\w+) already exists", error)
    if not match:
        return None
    return FailureExplanation(
        f"{match.group(1)} was left by an earlier SQLite batch operation that failed half-way",
        f"check {match.group(1)} holds nothing you need, then remove it",
        (f"DROP TABLE {match.group(1)};",),
    )


def _already_exists(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    match = re.search(
        r'(?:relation|table|index|column|constraint) "?(\w+)"? (?:of relation "(\w+)" )?already exists', error
    ) or re.search(r"duplicate column name: (\w+)", error)
    if not match:
        return None
    name = match.group(1)
    return FailureExplanation(
        f"{name} already exists, so the revision that creates it cannot run (a leftover of a manual change or an "
        "interrupted migration)",
        f"{_troubleshoot(database)} (objects-already-exist names the revision and, once a rehearsal proves it, "
        "the statement that removes the leftover); or Galaxy's `db_dev.sh upgrade --repair`, which skips objects "
        "that already exist",
    )


def _locked(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    if "database is locked" in error:
        return FailureExplanation(
            "another process holds a lock on the SQLite file (a running Galaxy?)",
            "stop every Galaxy process using this database, then run the upgrade again",
        )
    if "deadlock detected" in error or "lock timeout" in error or "could not obtain lock" in error:
        return FailureExplanation(
            "another session holds a lock on a table this revision alters",
            f"{_troubleshoot(database)} names the blocking sessions; stop Galaxy (web, handlers, "
            "schedulers) and run the upgrade again",
        )
    return None


def _not_null_on_existing_rows(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    match = re.search(r'column "(\w+)" of relation "(\w+)" contains null values', error) or re.search(
        r"NOT NULL constraint failed: (\w+)\.(\w+)", error
    )
    if not match:
        return None
    a, b = match.groups()
    return FailureExplanation(
        f"rows with NULL in the column the revision makes NOT NULL ({a}, {b})",
        "fill or delete those rows (see the revision's data-fix step), then upgrade again",
    )


def _unique_violation(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    if "could not create unique index" in error or "UNIQUE constraint failed" in error:
        return FailureExplanation(
            "duplicate values where the revision adds a unique constraint (Galaxy issue #18487: duplicate "
            "usernames or emails)",
            "find the duplicates with GROUP BY ... HAVING count(*) > 1, merge or rename them, then upgrade again",
        )
    return None


def _foreign_key(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    if "violates foreign key constraint" in error or "FOREIGN KEY constraint failed" in error:
        return FailureExplanation(
            "rows whose foreign-key values point to rows that do not exist",
            f"{_troubleshoot(database)} (foreign-key-orphans lists them with the cleanup SQL)",
        )
    return None


def _unnamed_foreign_key(error: str, dialect: str, database: DatabaseArgs | None) -> FailureExplanation | None:
    """Databases created on SQLite by 23.0 or older have unnamed foreign keys (Galaxy's naming convention,
    ``<table>_<column>_fkey``, came later); a revision that drops one by that name cannot find it."""
    match = re.search(r"No such constraint: '(\w+)_fkey'", error)
    if not match or dialect != "sqlite":
        return None
    parts = match.group(1).split("_")
    # Which words are the column is not written down: every "..._id" tail is a candidate. Each statement
    # names that column's unnamed foreign keys in every table (later revisions drop the others by name too).
    columns = ["_".join(parts[i:]) for i in range(1, len(parts) - 1) if parts[-1] == "id"]
    updates = tuple(_name_foreign_keys(column) for column in columns)
    return FailureExplanation(
        f"the foreign key {match.group(1)}_fkey has no name in this database (an older release's create_all on "
        "SQLite made it without one), and the revision drops it by that name",
        "give such foreign keys the names Galaxy's code gives them, in the tables' stored definitions",
        ("PRAGMA writable_schema = ON;", *updates, "PRAGMA writable_schema = OFF;"),
    )


def _name_foreign_keys(column: str) -> str:
    unnamed = f"char(9) || 'FOREIGN KEY({column}) REFERENCES'"  # create_all writes a tab before an unnamed one
    named = f"char(9) || 'CONSTRAINT ' || name || '_{column}_fkey FOREIGN KEY({column}) REFERENCES'"
    return (
        f"UPDATE sqlite_master SET sql = replace(sql, {unnamed}, {named}) "
        f"WHERE type = 'table' AND instr(sql, {unnamed});"
    )


RECOGNISERS = (
    _unnamed_foreign_key,
    _index_on_dropped_column,
    _leftover_batch_table,
    _already_exists,
    _locked,
    _not_null_on_existing_rows,
    _unique_violation,
    _foreign_key,
)


def explain_failure(errors: list[str], dialect: str, database: DatabaseArgs | None = None) -> FailureExplanation | None:
    """The first recognisable cause among the errors, with its way out (its commands name ``database``)."""
    for error in errors:
        for recognise in RECOGNISERS:
            found = recognise(error, dialect, database)
            if found:
                return found
    return None
