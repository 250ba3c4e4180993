"""Which tables' rows a SQL statement needs, read from its text (never run).

A rehearsal on a copy that holds the rows of some tables only (``runbooks.tasks.rehearsal_scope``)
must know, for each statement a revision runs, which tables' rows can change its outcome:

- a data statement (SELECT, INSERT, UPDATE, DELETE, MERGE, CREATE TABLE ... AS, a materialized
  view) needs every table it names after FROM, JOIN, INTO, UPDATE, USING, TABLE;
- a non-unique CREATE INDEX needs its table's rows (an index build can fail on a row: size,
  expression); ALTER TABLE ... USING (a type change computed from the rows) needs them too;
- schema statements whose outcome depends on rows only through a constraint or a type
  (ADD CONSTRAINT, SET NOT NULL, ALTER ... TYPE, CREATE UNIQUE INDEX, ADD COLUMN ... NOT NULL) need
  none: the rehearsal checks those conditions on the live rows instead;
- definitions that do not run (CREATE FUNCTION/TRIGGER/VIEW/SEQUENCE/TYPE, DROP, COMMENT, GRANT)
  and session statements (BEGIN, SET, SHOW, SAVEPOINT) need none.

Anything else (DO blocks, CALL, COPY, a statement this reader does not recognise) is ``UNKNOWN``:
the caller must then copy every table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_NAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})?"
_KEYWORD = re.compile(
    rf"\b(FROM|JOIN|INTO|UPDATE|USING|TABLE|TRUNCATE)\s+(?:ONLY\s+)?(?P<name>{_NAME})(?P<after>\s*\(?)",
    re.IGNORECASE,
)
_LIST_MORE = re.compile(rf"\s*(?:AS\s+)?(?:{_IDENT}\s*)?,\s*(?P<name>{_NAME})", re.IGNORECASE)
_STRINGS = re.compile(r"\$(\w*)\$.*?\$\1\$|'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)
_SESSION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW", "RESET", "LOCK", "END", "START")
_NO_ROWS = re.compile(
    r"^(CREATE\s+(OR\s+REPLACE\s+)?(CONSTRAINT\s+)?(FUNCTION|PROCEDURE|TRIGGER|SEQUENCE|TYPE|SCHEMA|EXTENSION|"
    r"(TEMP\w*\s+)?(RECURSIVE\s+)?VIEW|DOMAIN|COLLATION|UNIQUE\s+INDEX)|DROP|COMMENT|GRANT|REVOKE|"
    r"ALTER\s+(SEQUENCE|INDEX|TYPE|FUNCTION|VIEW|SCHEMA|DOMAIN|TRIGGER))\b",
    re.IGNORECASE,
)
_DATA = re.compile(
    r"^(\(?\s*SELECT|WITH|INSERT|UPDATE|DELETE|MERGE|TRUNCATE|VALUES|REFRESH|CREATE\s+(MATERIALIZED\s+VIEW|"
    r"(UNLOGGED\s+|TEMP\w*\s+)?TABLE\b.*\bAS\s*\(?\s*(SELECT|WITH|VALUES)))",
    re.IGNORECASE | re.DOTALL,
)
_CREATE_TABLE = re.compile(r"^CREATE\s+(UNLOGGED\s+|TEMP\w*\s+)?TABLE\b", re.IGNORECASE)
_INDEX_ON = re.compile(rf"^CREATE\s+INDEX\b.*?\bON\s+(?:ONLY\s+)?(?P<name>{_NAME})", re.IGNORECASE | re.DOTALL)
_ALTER_TABLE = re.compile(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<name>{_NAME})", re.IGNORECASE)
_WRITES = re.compile(rf"^(?:WITH\b.*?\)\s*)?(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|"
                     rf"MERGE\s+INTO)\s+(?:ONLY\s+)?(?P<name>{_NAME})", re.IGNORECASE | re.DOTALL)  # fmt: skip
# FROM that is not a table: IS DISTINCT FROM x, EXTRACT(x FROM y), SUBSTRING(x FROM n), TRIM(... FROM x)
_NOT_A_TABLE_BEFORE = re.compile(r"(\bDISTINCT|\b(EXTRACT|SUBSTRING|TRIM|OVERLAY)\s*\([^()]*)\s*$", re.IGNORECASE)


@dataclass
class SqlNeeds:
    """The tables (lower-case, unqualified) a statement needs the rows of, and those it writes."""

    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    unknown: str = ""  # why the statement could not be read ("" when it could)
    functions: set[str] = field(default_factory=set)  # names called like f(...) in a data statement


def bare(name: str) -> str:
    """``"public"."Job"`` -> ``job`` as catalog names compare (unquoted names fold to lower case)."""
    last = re.split(r'\s*\.\s*(?=(?:"|[A-Za-z_]))', name.strip())[-1]
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


def without_literals(sql: str) -> str:
    return _STRINGS.sub(" '' ", sql)


def needs(sql: str) -> SqlNeeds:
    """What ``sql`` (one statement) needs: see the module's rules."""
    text = without_literals(sql).strip().rstrip(";").strip()
    result = SqlNeeds()
    if not text:
        return result
    first = text.split(None, 1)[0].upper().strip("(")
    if first in _SESSION:
        return result
    if _NO_ROWS.match(text):
        return result
    if _CREATE_TABLE.match(text) and not _DATA.match(text):
        return result  # a new table: no rows anywhere yet
    index = _INDEX_ON.match(text)
    if index:
        result.reads.add(bare(index.group("name")))
        return result
    alter = _ALTER_TABLE.match(text)
    if alter:
        if re.search(r"\bUSING\b", text, re.IGNORECASE):
            result.reads.add(bare(alter.group("name")))
        return result
    if not _DATA.match(text):
        result.unknown = f"not a statement this reader knows: {text[:80]}"
        return result
    result.reads |= tables_named(text)
    written = _WRITES.match(text)
    if written:
        result.writes.add(bare(written.group("name")))
        result.reads.add(bare(written.group("name")))
    result.functions = {m.group(1).lower() for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", text)}
    return result


def tables_named(text: str) -> set[str]:
    """Every name after FROM / JOIN / INTO / UPDATE / USING / TABLE (comma lists after FROM followed)."""
    names: set[str] = set()
    for match in _KEYWORD.finditer(text):
        if match.group(1).upper() == "FROM" and _NOT_A_TABLE_BEFORE.search(text[: match.start()]):
            continue
        if match.group("after").strip() == "(" and match.group(1).upper() in ("FROM", "JOIN", "USING"):
            continue  # a function in FROM (generate_series(...)); the caller checks called names
        names.add(bare(match.group("name")))
        if match.group(1).upper() in ("FROM", "USING"):
            rest = text[match.end("name") :]
            while more := _LIST_MORE.match(rest):
                names.add(bare(more.group("name")))
                rest = rest[more.end() :]
    return names
