"""A PostgreSQL rehearsal whose copy holds the schema of everything and the rows the revisions touch only.

1. From each pending revision's code (``runbooks.code.revision_tables``): the tables whose rows can
   change its outcome. The copy (``runbooks.database.partial_copy``) gets every table's schema and
   those tables' rows (plus ``alembic_version``'s and every sequence's value).
2. Galaxy's own upgrade runs there, recording every statement, and is read back, as on a full copy.
3. The SQL it really ran is read (``runbooks.code.sql_tables``): a statement that reads or writes a
   table whose live rows were not copied (a data fix learned only at run time, a trigger of a
   written table) means the copy was too small: the tables are added and the rehearsal runs again
   (at most ``ROUNDS`` times). A statement that cannot be read, or a call of one of the database's
   own functions, means anything may be touched: a full copy (said so).
4. The copy's catalog after the upgrade is compared with the live one: every new demand on the
   rows of a table not copied (NOT NULL, unique, foreign key, check, type) is a read-only query
   on the live database (``runbooks.tasks.preconditions``).
5. A failure that may come from the copy being partial (a foreign key into rows not copied), or a
   precondition that fails, is confirmed on a full copy, so the error reported is the database's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runbooks.code.revision_tables import revision_tables
from runbooks.code.revisions import RevisionGraph
from runbooks.code.sql_tables import needs
from runbooks.database.connections import read_only_cursor
from runbooks.database.partial_copy import Relation, copy_scoped, has_rows, relations
from runbooks.database.scratch import scratch_database
from runbooks.database.urls import DatabaseUrl
from runbooks.tasks.preconditions import Precondition, catalog, check, derive

ROUNDS = 3
ALWAYS = {"alembic_version", "migrate_version"}  # Galaxy's upgrade reads the version tables
_FUNCTIONS = """
SELECT DISTINCT lower(p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
  AND p.prorettype <> 'trigger'::regtype
"""
_TRIGGER_BODIES = """
SELECT c.relname, pg_get_functiondef(t.tgfoid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


@dataclass
class RevisionWay:
    revision: str
    way: str  # "full rows" | "schema plus preconditions"
    proves: str
    schema_only: list[str] = field(default_factory=list)  # tables it names whose live rows were not copied
    learned: str = ""  # why its tables were learned from the SQL it ran (not read from its code)

    def to_json(self) -> dict:
        return self.__dict__.copy()


@dataclass
class Scope:
    """How a rehearsal's copy was made and what that proves."""

    mode: str  # "scoped" | "full"
    reason: str  # why this mode
    copied: list[str] = field(default_factory=list)  # tables whose rows the copy holds
    copied_bytes: int = 0
    left_out_bytes: int = 0
    rounds: int = 0
    revisions: list[RevisionWay] = field(default_factory=list)
    preconditions: list[Precondition] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return all(p.holds for p in self.preconditions)

    def lines(self) -> list[str]:
        """What the plan says of the rehearsal's copy: how it was made, each revision's way, the preconditions."""
        if self.mode == "full":
            return [f"Copy: every row ({self.reason})."]
        mb = 1024 * 1024
        text = [f"Copy: the schema of every table, the rows of {len(self.copied)} ({self.copied_bytes / mb:.1f} MB; "
                f"{self.left_out_bytes / mb:.1f} MB of rows left out): {self.reason}."]  # fmt: skip
        text += [f"  {r.revision}: {r.way}: {r.proves}" for r in self.revisions]
        if self.preconditions:
            text.append("Preconditions on the live rows (read-only queries):")
            text += [f"  {p.describe()}" for p in self.preconditions]
        return text

    def to_json(self) -> dict:
        return {
            "mode": self.mode, "reason": self.reason, "copied_tables": self.copied,
            "copied_bytes": self.copied_bytes, "left_out_bytes": self.left_out_bytes, "rounds": self.rounds,
            "revisions": [r.to_json() for r in self.revisions],
            "preconditions": [p.to_json() for p in self.preconditions],
        }  # fmt: skip


@dataclass
class Attempt:
    """One scoped rehearsal: its outcome and scope, or why a full copy is needed instead (``full_because``)."""

    outcome: object = None
    scope: Scope | None = None
    full_because: str = ""


def planned_tables(graph: RevisionGraph, revisions: list[str], direction: str) -> tuple[dict, set[str], str]:
    """Per revision what its code says; the tables whose rows are needed; why some revision is opaque."""
    per = {rid: revision_tables(graph.revisions[rid].path, direction) for rid in revisions}
    reads = set().union(*(t.reads for t in per.values())) if per else set()
    opaque = next((f"{rid}: {t.opaque}" for rid, t in per.items() if t.opaque), "")
    return per, reads, opaque


def scoped_attempt(db: DatabaseUrl, plan, graph: RevisionGraph, run) -> Attempt:
    """Rehearse ``plan`` on scoped copies until the copy holds every row the run touched; ``run(scratch_db)``
    applies the plan there and returns the outcome."""
    per, wanted, opaque = planned_tables(graph, plan.revisions, plan.direction)
    every = relations(db)
    tables = {r.name: r for r in every if r.kind != "S"}
    user_functions, triggers = _database_code(db)
    before = catalog(db)
    wanted = (wanted | ALWAYS) & set(tables)
    for round_ in range(1, ROUNDS + 1):
        with scratch_database(server=db, name="scoped") as scratch:
            copied = {r.name for r in copy_scoped(db, scratch.db, wanted)}
            outcome = run(scratch.db)
            after = catalog(scratch.db)
        reads, writes, unknown = _what_ran(outcome.statements, user_functions)
        if unknown:
            return Attempt(full_because=f"the upgrade ran a statement this tool cannot read ({unknown})")
        for table in writes & set(triggers):  # a trigger of a written table runs SQL the log does not show
            found = [needs(body) for body in triggers[table]]
            if any(f.unknown for f in found):
                return Attempt(full_because=f"a trigger on {table} runs SQL this tool cannot read")
            reads |= set().union(*(f.reads | f.writes for f in found))
        uncopied = set(tables) - copied
        preconditions, rows_needed = derive(before, after, uncopied, writes)
        rows_needed |= check(db, preconditions)
        missing = [tables[t] for t in ((reads | rows_needed) & uncopied)]
        more = {name for name, full in has_rows(db, missing).items() if full}
        if not more:
            scope = _scope(per, plan, copied, every, preconditions, round_, opaque)
            return Attempt(outcome, scope)
        wanted |= more
    return Attempt(full_because=f"the tables touched kept growing after {ROUNDS} rounds")


def _database_code(db: DatabaseUrl) -> tuple[set[str], dict[str, list[str]]]:
    """The database's own (non-trigger) function names, and the trigger function bodies per table."""
    triggers: dict[str, list[str]] = {}
    with read_only_cursor(db) as cursor:
        cursor.execute(_FUNCTIONS)
        functions = {row[0] for row in cursor.fetchall()}
        cursor.execute(_TRIGGER_BODIES)
        for table, body in cursor.fetchall():
            triggers.setdefault(table, []).append(_body(body))
    return functions, triggers


def _body(definition: str) -> str:
    """The statements inside a plpgsql function definition (between its dollar quotes)."""
    start = definition.find("$", definition.find(" AS "))
    tag_end = definition.find("$", start + 1)
    tag = definition[start : tag_end + 1]
    end = definition.rfind(tag)
    inner = definition[tag_end + 1 : end] if start >= 0 and end > tag_end else definition
    if re.search(r"\bEXECUTE\b", inner, re.IGNORECASE):
        return "DO $$ dynamic SQL $$"  # SQL built at run time: unreadable
    words = inner.replace("\n", " ")
    return "SELECT 1 FROM (" + "".join(" " if c == ";" else c for c in words) + ") AS body"  # read as one data text


def _what_ran(statements: list[str], user_functions: set[str]) -> tuple[set[str], set[str], str]:
    reads: set[str] = set()
    writes: set[str] = set()
    for sql in statements:
        found = needs(sql)
        if found.unknown:
            return reads, writes, found.unknown
        called = found.functions & user_functions
        if called:
            return reads, writes, f"it calls the database's own function {sorted(called)[0]}"
        reads |= found.reads
        writes |= found.writes
    return reads, writes, ""


def _scope(per, plan, copied, every: list[Relation], preconditions, rounds: int, opaque: str) -> Scope:
    sizes = {r.name: r.bytes for r in every if r.kind != "S"}
    ways = []
    for rid in plan.revisions:
        known = per[rid]
        schema_only = sorted(t for t in known.named if t in sizes and t not in copied)
        checks = [p for p in preconditions if p.table in schema_only]
        if known.opaque or not schema_only:
            way, proves = "full rows", "its statements ran over every live row of the tables they touch"
        else:
            way = "schema plus preconditions"
            proves = (f"its schema changes ran against the real catalog of {', '.join(schema_only)} (no rows copied); "
                      f"{len(checks)} precondition(s) on their live rows checked read-only")  # fmt: skip
        ways.append(RevisionWay(rid, way, proves, schema_only, known.opaque))
    reason = "rows of the tables the pending revisions read or write, schema of the rest"
    if opaque:
        reason += f"; tables of {opaque.split(':')[0]} learned from the SQL it ran ({opaque.split(': ', 1)[1]})"
    return Scope(
        mode="scoped", reason=reason, copied=sorted(copied), rounds=rounds, revisions=ways, preconditions=preconditions,
        copied_bytes=sum(sizes[t] for t in copied), left_out_bytes=sum(v for t, v in sizes.items() if t not in copied),
    )  # fmt: skip
