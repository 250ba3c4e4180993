"""What a database's server offers the role that would migrate it: read-only questions, nothing changed.

PostgreSQL: the server version, which functions are reachable (``pg_proc`` in the schemas of the
session's search path, ``pg_catalog`` included), which extensions are installed or could be, the
role (superuser?), CREATE on the current schema, and the owner of each table asked about (ALTER
needs the owner or a member of the owning role). Both dialects: the database's size, against
the free space of a folder (where the backup would go).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl


@dataclass
class ServerFacts:
    version: str
    version_num: int
    user: str
    superuser: bool
    schema: str | None
    can_create: bool
    reachable: dict[str, bool] = field(default_factory=dict)  # function name -> callable by name
    installed_extensions: set[str] = field(default_factory=set)
    available_extensions: set[str] = field(default_factory=set)
    owners: dict[str, str] = field(default_factory=dict)  # existing table -> owner
    not_owned: list[str] = field(default_factory=list)  # tables this role may not ALTER
    # (kind, name, table or None, owner) of the trigger functions and triggers this role may not replace or drop
    routines_not_owned: list[tuple[str, str, str | None, str]] = field(default_factory=list)


SERVER = """
SELECT current_setting('server_version'), current_setting('server_version_num')::int, current_user,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), current_schema(),
       coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)
"""
REACHABLE = """
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = ANY(%s) AND n.nspname = ANY(current_schemas(true))
"""
EXTENSIONS = "SELECT name, installed_version IS NOT NULL FROM pg_available_extensions"
OWNERS = """
SELECT tablename, tableowner, pg_has_role(current_user, tableowner, 'USAGE')
FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s)
"""

# Galaxy's functions are trigger functions (history audit, update_time); replacing or dropping one needs
# its owner, and creating or dropping a trigger needs the owner of its table (or a member of that role).
ROUTINES_NOT_OWNED = """
SELECT 'function', p.proname, NULL, pg_get_userbyid(p.proowner) FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.prorettype = 'trigger'::regtype
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  AND NOT pg_has_role(current_user, p.proowner, 'USAGE')
UNION ALL
SELECT 'trigger', t.tgname, c.relname, pg_get_userbyid(c.relowner) FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
ORDER BY 1, 2, 3
"""


def server_facts(db: DatabaseUrl, functions: list[str], tables: list[str], routines: bool = False) -> ServerFacts:
    """One read-only session: the facts above for ``functions`` and ``tables``; ``routines``: also the
    trigger functions and triggers of the current schema this role may not replace or drop."""
    with read_only_cursor(db) as cursor:
        cursor.execute(SERVER)
        facts = ServerFacts(*cursor.fetchone())
        cursor.execute(REACHABLE, (list(functions),))
        found = {row[0] for row in cursor.fetchall()}
        facts.reachable = {name: name in found for name in functions}
        cursor.execute(EXTENSIONS)
        for name, installed in cursor.fetchall():
            facts.available_extensions.add(name)
            if installed:
                facts.installed_extensions.add(name)
        cursor.execute(OWNERS, (list(tables),))
        for table, owner, is_member in cursor.fetchall():
            facts.owners[table] = owner
            if not is_member and not facts.superuser:
                facts.not_owned.append(table)
        if routines and not facts.superuser:
            cursor.execute(ROUTINES_NOT_OWNED)
            facts.routines_not_owned = [tuple(row) for row in cursor.fetchall()]
    return facts


def database_size(db: DatabaseUrl) -> int:
    """Bytes the database takes: the SQLite file (and its WAL), or ``pg_database_size``."""
    if db.is_sqlite:
        paths = [db.sqlite_path, Path(f"{db.sqlite_path}-wal")]
        return sum(path.stat().st_size for path in paths if path.is_file())
    with read_only_cursor(db) as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def free_bytes(folder: Path) -> tuple[Path, int]:
    """Free bytes on the file system that holds ``folder`` (or its nearest existing parent)."""
    folder = Path(folder).expanduser().absolute()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing, shutil.disk_usage(existing).free
