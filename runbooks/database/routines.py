"""Views, triggers and functions: the schema objects SQLAlchemy's ``compare_metadata`` does not see.

Galaxy creates some (``collection_job_state_summary_view`` until 23.1, the history audit and
update-time triggers, their PL/pgSQL functions); a stale view or a lost trigger breaks Galaxy at
runtime while the tables match the model. Read-only, no Galaxy import.
"""

from __future__ import annotations

import re
import sqlite3

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl


def _normalized(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").strip()).lower()


def schema_routines(db: DatabaseUrl) -> dict[str, dict[str, str]]:
    """``{"view": {name: columns}, "trigger": {name: table}, "function": {name: ""}}`` in ``db``."""
    if db.is_sqlite:
        conn = sqlite3.connect(f"{db.sqlite_path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('view', 'trigger')")
            found = {"view": {}, "trigger": {}, "function": {}}
            for kind, name, table in rows.fetchall():
                if kind == "view":
                    columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
                    found["view"][name] = ", ".join(columns)
                else:
                    found["trigger"][name] = table
            return found
        finally:
            conn.close()
    with read_only_cursor(db, "galaxy-runbooks-doctor") as cursor:
        cursor.execute(
            "SELECT c.relname, string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
            "WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY (current_schemas(false)) GROUP BY c.relname"
        )
        views = dict(cursor.fetchall())
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = ANY (current_schemas(false))"
        )
        triggers = dict(cursor.fetchall())
        cursor.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e' "
            "WHERE n.nspname = ANY (current_schemas(false)) AND d.objid IS NULL"
        )
        functions = {name: "" for (name,) in cursor.fetchall()}
    return {"view": views, "trigger": triggers, "function": functions}


def routine_differences(database: dict, reference: dict) -> list[dict]:
    """Differences as drift dictionaries: missing (``add_*``), extra (``remove_*``), changed (``modify_view``)."""
    found = []
    for kind in ("view", "trigger", "function"):
        ours, theirs = database.get(kind, {}), reference.get(kind, {})
        for name in sorted(set(theirs) - set(ours)):
            found.append({"kind": f"add_{kind}", "table": _table(kind, name, theirs), "name": name, "detail": ""})
        for name in sorted(set(ours) - set(theirs)):
            found.append({"kind": f"remove_{kind}", "table": _table(kind, name, ours), "name": name, "detail": ""})
        for name in sorted(set(ours) & set(theirs)):
            if _normalized(ours[name]) != _normalized(theirs[name]):
                detail = f"database: {ours[name] or '-'}; expected: {theirs[name] or '-'}"
                found.append(
                    {"kind": f"modify_{kind}", "table": _table(kind, name, ours), "name": name, "detail": detail}
                )
    return found


def _table(kind: str, name: str, objects: dict) -> str:
    return objects[name] if kind == "trigger" else name
