"""Server capability pre-flight: what a change needs that the server, the role or the disk lacks.

Run by upgrade/downgrade after the plan is printed and before anything is written (a gap refuses
the change unless ``--ignore-preflight``), and by the doctor on a database that is behind. Each
gap is a finding with its fix (``runbooks.findings.catalogue``): ``server-lacks-function`` (Galaxy
issue 18877: ``gen_random_uuid`` before PostgreSQL 13 needs ``pgcrypto``), ``role-lacks-privilege``
(CREATE on the schema, ownership of the tables the revisions alter, and of the trigger functions and
triggers when a revision replaces or drops them), ``backup-disk-too-small``, and
for SQLite ``database-not-writable`` and ``database-disk-too-small`` (the rollback journal and the
tables Galaxy rebuilds are written beside the database: up to its size).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.code.revision_source import statements
from runbooks.code.revisions import RevisionGraph
from runbooks.code.server_needs import FUNCTIONS, ServerNeeds, readable_sources, server_needs
from runbooks.code.syntax import without_docstring
from runbooks.database.search_path import schema_place
from runbooks.database.server_facts import ServerFacts, database_size, free_bytes, server_facts
from runbooks.database.urls import DatabaseUrl
from runbooks.findings.report import DoctorFinding, finding

BACKUP_MARGIN_BYTES = 64 * 1024**2  # room left beside the backup (its manifest, the journal of the copy)
SHOWN = 5
ROUTINE_WORDS = re.compile(r"function|trigger", re.IGNORECASE)  # in an execute(): SQL or a trigger builder


@dataclass
class Preflight:
    needs: ServerNeeds
    facts: ServerFacts | None = None
    findings: list[DoctorFinding] = field(default_factory=list)
    disk: dict | None = None  # {"folder", "free_bytes", "database_bytes", "needed_bytes"}

    @property
    def has_gaps(self) -> bool:
        return bool(self.findings)

    def text(self) -> str:
        lines = []
        if self.facts is not None:
            facts = self.facts
            role = f"{facts.user}{' (superuser)' if facts.superuser else ''}"
            lines.append(f"Pre-flight: PostgreSQL {facts.version}, role {role}, schema {facts.schema}")
        if self.disk is not None:
            lines.append(
                f"Pre-flight: backup needs up to {_size(self.disk['needed_bytes'])}; "
                f"{self.disk['folder']} has {_size(self.disk['free_bytes'])} free"
            )
        for item in self.findings:
            lines += [f"  [{item.severity.upper()}] {item.code}: {item.summary}", f"    fix: {item.fix}"]
        if lines and not self.findings:
            lines.append("Pre-flight: nothing missing")
        return "\n".join(lines)

    def to_json(self) -> dict:
        facts = self.facts
        server = None if facts is None else {"version": facts.version, "role": facts.user, "schema": facts.schema}
        return {"server": server, "disk": self.disk, "findings": [item.to_json() for item in self.findings]}


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


def _shown(items) -> str:
    items = list(items)
    return ", ".join(items[:SHOWN]) + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def preflight(
    db: DatabaseUrl,
    graph: RevisionGraph,
    revisions: list[str],
    direction: str = "upgrade",
    backup_folder: Path | None = None,
    margin_bytes: int = BACKUP_MARGIN_BYTES,
) -> Preflight:
    """The gaps for running ``revisions`` on ``db``; ``backup_folder``: also check room for the backup."""
    check = Preflight(server_needs(graph, revisions, direction))
    if db.dialect == "postgresql" and revisions:
        needs = check.needs
        routine_revisions = _routine_revisions(graph, revisions, direction)
        check.facts = server_facts(db, sorted(needs.functions), sorted(needs.altered_tables), bool(routine_revisions))
        check.findings += _function_gaps(check.facts, needs) + _privilege_gaps(check.facts, needs, routine_revisions)
        check.findings += _search_path_gap(db)
    if db.is_sqlite and revisions:
        check.findings += _sqlite_file_gaps(db)
    if backup_folder is not None and revisions:
        check.findings += _disk_gap(check, db, backup_folder, margin_bytes)
    return check


def _sqlite_file_gaps(db: DatabaseUrl) -> list[DoctorFinding]:
    """The file and its folder take writes (a read-only mount refuses even root), with room for the journal."""
    path = db.sqlite_path
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        where = path if not os.access(path, os.W_OK) else path.parent
        summary = f"{where} cannot be written (read-only file or mount): the migration would fail at its first write"
        fix = "make the database file and its folder writable (remount read-write, chmod), then run this again"
        return [finding("database-not-writable", summary, fix, {"path": str(where)})]
    existing, free = free_bytes(path.parent)
    size = database_size(db)
    if free >= size:
        return []
    summary = (
        f"{existing} has {_size(free)} free; SQLite's journal and the tables Galaxy rebuilds are written beside "
        f"the database and can take up to its size ({_size(size)}): the migration could stop half-way"
    )
    fix = "free space on that disk (or move the database to a larger one), then run this again"
    return [finding("database-disk-too-small", summary, fix, {"folder": str(existing), "free_bytes": free})]


def _calls(revisions: list[str]) -> str:
    return "calls" if len(revisions) == 1 else "call"


def _function_gaps(facts: ServerFacts, needs: ServerNeeds) -> list[DoctorFinding]:
    gaps = []
    for name, revisions in needs.functions.items():
        if facts.reachable.get(name):
            continue
        need = FUNCTIONS[name]
        older = need.built_in_since is not None and facts.version_num < need.built_in_since
        why = f"built in from PostgreSQL {need.built_in_since // 10000}, " if need.built_in_since else ""
        state = (
            "installed but not in the search path"
            if need.extension in facts.installed_extensions
            else ("not installed" if need.extension in facts.available_extensions else "not available on this server")
        )
        summary = (
            f"{_shown(revisions)} {_calls(revisions)} {name}(), "
            f"which PostgreSQL {facts.version} does not offer this role "
            f"({why}else from the {need.extension} extension: {state}): "
            f"it fails with 'function {name}() does not exist'"
        )
        fix = f'as a superuser, before the change: CREATE EXTENSION IF NOT EXISTS "{need.extension}"'
        if need.extension not in facts.available_extensions:
            fix = f"install the server's contrib package (it provides {need.extension}), then {fix}"
        if older:
            fix += f" (or move to PostgreSQL {need.built_in_since // 10000} or newer)"
        gaps.append(finding("server-lacks-function", summary, fix, {"function": name, "revisions": revisions}))
    return gaps


def _privilege_gaps(facts: ServerFacts, needs: ServerNeeds, routine_revisions: list[str]) -> list[DoctorFinding]:
    if facts.superuser:
        return []
    gaps = []
    if needs.creates_objects and not facts.can_create:
        gaps.append(
            finding(
                "role-lacks-privilege",
                f"role {facts.user} may not create objects in schema {facts.schema}; "
                f"{_shown(needs.creates_objects)} create tables or indexes there",
                f"migrate as the role that owns Galaxy's tables (its URL in --db), or as the schema's owner: "
                f"GRANT CREATE ON SCHEMA {facts.schema} TO {facts.user}",
                {"privilege": "CREATE", "schema": facts.schema, "revisions": needs.creates_objects},
            )
        )
    gaps += _ownership_gap(facts, facts.not_owned, needs, routine_revisions)  # tables, then routines
    return gaps


def _routine_revisions(graph: RevisionGraph, revisions: list[str], direction: str) -> list[str]:
    """The revisions whose ``direction`` executes SQL about functions or triggers on PostgreSQL."""
    found = []
    for rid, source in readable_sources(graph, revisions):
        if any(
            item.kind == "execute" and item.ctx.dialect != "sqlite" and ROUTINE_WORDS.search(_executed(item))
            for item in statements(source, direction)
        ):
            found.append(rid)
    return found


def _executed(item) -> str:
    """The execute() call, and the helper holding it (``op.execute(stmt)`` names nothing itself)."""
    return ast.unparse(item.call) + " ".join(ast.unparse(node) for node in without_docstring(item.ctx.function))


def _ownership_gap(
    facts: ServerFacts, not_owned: list[str], needs: ServerNeeds, routine_revisions: list[str]
) -> list[DoctorFinding]:
    """Tables the revisions alter (``not_owned``), and trigger functions and triggers they replace or drop,
    that the role may not change."""
    routines = facts.routines_not_owned if routine_revisions else []
    if not not_owned and not routines:
        return []
    owners = sorted({facts.owners[table] for table in not_owned} | {owner for *_, owner in routines})
    parts, transfers = [], []
    table_revisions = sorted({rid for table in not_owned for rid in needs.altered_tables[table]})
    if not_owned:
        tables = [f"{table} (owner {facts.owners[table]})" for table in not_owned]
        parts.append(f"{_shown(tables)}, which {_shown(table_revisions)} alter: 'must be owner of table'")
    if routines:
        named = [
            f"function {name}() (owner {owner})" if kind == "function" else f"trigger {name} on {table} (owner {owner})"
            for kind, name, table, owner in routines
        ]
        parts.append(
            f"{_shown(named)} in schema {facts.schema}, which {_shown(routine_revisions)} replace or drop: "
            "'must be owner of function' (a trigger: of its table)"
        )
        transfers = sorted(
            {f"ALTER FUNCTION {name}() OWNER TO {facts.user}" for kind, name, _, _ in routines if kind == "function"}
            | {f"ALTER TABLE {table} OWNER TO {facts.user}" for kind, _, table, _ in routines if kind == "trigger"}
        )
    fix = (
        f"migrate as {' or '.join(owners)} (the owner; its URL in --db), or grant {facts.user} that role: "
        f"GRANT {owners[0]} TO {facts.user}"
    )
    if transfers:
        fix += f"; or, as a superuser, give the routines to {facts.user}: " + "; ".join(transfers)
    details = {"privilege": "OWNER", "tables": not_owned, "revisions": table_revisions or routine_revisions}
    if routines:
        details |= {"routines": [list(item) for item in routines], "routine_revisions": routine_revisions}
    summary = f"role {facts.user} does not own " + "; nor ".join(parts)
    return [finding("role-lacks-privilege", summary, fix, details)]


def _search_path_gap(db: DatabaseUrl) -> list[DoctorFinding]:
    place = schema_place(db)
    if not place.split:
        return []
    fix = (
        f"make Galaxy's schema first for the role and database Galaxy uses "
        f"(ALTER DATABASE ... SET search_path = {place.galaxy}; or RESET search_path), "
        f"or move the other schema's tables out of the way, then run this again"
    )
    details = {"search_path": place.search_path, "changed": place.changed, "galaxy": place.galaxy}
    return [finding("search-path-shadows", place.problem(), fix, details | {"hiding": list(place.hiding)})]


def _disk_gap(check: Preflight, db: DatabaseUrl, folder: Path, margin_bytes: int) -> list[DoctorFinding]:
    existing, free = free_bytes(folder)
    size = database_size(db)
    needed = size + margin_bytes
    check.disk = {"folder": str(existing), "free_bytes": free, "database_bytes": size, "needed_bytes": needed}
    if free >= needed:
        return []
    summary = (
        f"the backup before the change needs up to {_size(needed)} (the database takes {_size(size)}); "
        f"{existing} has {_size(free)} free"
    )
    fix = "free space there, or set RUNBOOK_HOME to a folder on a larger disk, or back up yourself and pass --no-backup"
    return [finding("backup-disk-too-small", summary, fix, dict(check.disk))]
