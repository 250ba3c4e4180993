"""What a PostgreSQL database is besides its rows, read and put back.

Its owner, its privileges (``datacl``: a ``REVOKE CONNECT … FROM PUBLIC`` is part of it), its
connection limit and comment, the settings made with ``ALTER DATABASE … SET`` and ``ALTER ROLE …
IN DATABASE … SET`` (``pg_db_role_setting``), and the owner of each table, view and sequence.
``CREATE DATABASE … TEMPLATE`` and ``pg_restore`` into a new database carry none of the database's
own properties, and ``pg_restore --no-owner`` makes the restoring role own every table. A backup
records them in its manifest; a rehearsal's copy gets the settings; a restore puts them all back
and says what it could not.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from runbooks.database.connections import connect_postgresql, read_only_cursor, run_autocommit
from runbooks.database.urls import DatabaseUrl, quoted

DATABASE = """
SELECT pg_get_userbyid(d.datdba), coalesce(d.datacl::text[], '{}'), d.datacl IS NULL, d.datconnlimit,
       shobj_description(d.oid, 'pg_database')
FROM pg_database d WHERE d.datname = %s
"""
SETTINGS = """
SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, unnest(s.setconfig)
FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = %s ORDER BY 1 NULLS FIRST, 2
"""
OWNERS = """
SELECT n.nspname || '.' || c.relname, c.relkind::text, pg_get_userbyid(c.relowner)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.objid = c.oid AND x.deptype IN ('a', 'i') AND c.relkind = 'S')
"""
KINDS = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
PRIVILEGES = {"C": "CREATE", "c": "CONNECT", "T": "TEMPORARY"}
_ACL_ITEM = re.compile(r'^(?P<grantee>"(?:[^"]|"")*"|[^=]*)=(?P<privileges>[A-Za-z*]*)/')


@dataclass
class DatabaseMeta:
    owner: str
    acl: list[str] | None  # aclitem texts; None: the defaults (CONNECT and TEMPORARY for PUBLIC)
    connection_limit: int
    comment: str | None
    settings: list[list] = field(default_factory=list)  # [role or None, "name=value"]
    owners: dict[str, list[str]] = field(default_factory=dict)  # "schema.name" -> [kind, owner]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> DatabaseMeta:
        return cls(**{key: data.get(key) for key in ("owner", "acl", "connection_limit", "comment")},
                   settings=data.get("settings") or [], owners=data.get("owners") or {})  # fmt: skip


def read_meta(db: DatabaseUrl) -> DatabaseMeta:
    """The database's own properties and its relations' owners, in one read-only session on it."""
    with read_only_cursor(db) as cursor:
        cursor.execute(DATABASE, (db.database_name,))
        owner, acl, default_acl, limit, comment = cursor.fetchone()
        meta = DatabaseMeta(owner, None if default_acl else list(acl), limit, comment)
        meta.settings = read_settings(cursor, db.database_name)
        cursor.execute(OWNERS)
        meta.owners = {name: [kind, who] for name, kind, who in cursor.fetchall()}
    return meta


def read_settings(cursor, name: str) -> list[list]:
    cursor.execute(SETTINGS, (name,))
    return [[role, setting] for role, setting in cursor.fetchall()]


def settings_sql(settings: list[list], name: str) -> list[str]:
    """``ALTER DATABASE``/``ALTER ROLE … IN DATABASE`` statements giving database ``name`` these settings."""
    statements = []
    for role, setting in settings:
        key, _, value = setting.partition("=")
        scope = f"ROLE {quoted(role)} IN DATABASE {quoted(name)}" if role else f"DATABASE {quoted(name)}"
        statements.append(f"ALTER {scope} SET {quoted(key)} TO {_value_sql(key, value)}")
    return statements


LIST_SETTINGS = {"search_path", "temp_tablespaces", "local_preload_libraries", "session_preload_libraries"}
_LIST_ITEM = re.compile(r'\s*("(?:[^"]|"")*"|[^,]*)\s*(?:,|$)')


def _value_sql(key: str, value: str) -> str:
    """A stored setting back as SQL, as pg_dump writes it: a list setting (``zz, public``) item by item."""
    if key.lower() not in LIST_SETTINGS:
        return _literal(value)
    items = [m.group(1) for m in _LIST_ITEM.finditer(value) if m.group(1)]
    unquoted = [item[1:-1].replace('""', '"') if item.startswith('"') else item for item in items]
    return ", ".join(_literal(item) for item in unquoted) or "''"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def copy_settings(source: DatabaseUrl, target: DatabaseUrl) -> None:
    """Give the copy ``target`` the settings ``source`` has (a TEMPLATE copy has none of them)."""
    with read_only_cursor(source) as cursor:
        settings = read_settings(cursor, source.database_name)
    run_on_server(target, settings_sql(settings, target.database_name))


def run_on_server(db: DatabaseUrl, statements: list[str]) -> None:
    if statements:
        run_autocommit(db.with_database("postgres"), statements)


def put_back(meta: DatabaseMeta, db: DatabaseUrl) -> list[str]:
    """Give database ``db`` (just restored) ``meta``'s owners, privileges and settings; what failed, in words."""
    failed = _run_each(db, _owner_sql(meta, read_meta(db)))
    failed += _run_each(db.with_database("postgres"), database_sql(meta, db.database_name))
    return failed


def database_sql(meta: DatabaseMeta, name: str) -> list[str]:
    target = f"DATABASE {quoted(name)}"
    statements = [f"ALTER {target} OWNER TO {quoted(meta.owner)}"]
    if meta.acl is not None:
        grants = [_grant(item, target) for item in meta.acl]
        grantees = sorted({grantee for grantee, _ in grants if grantee != "PUBLIC"} | {quoted(meta.owner)})
        statements += [f"REVOKE ALL ON {target} FROM {grantee}" for grantee in ["PUBLIC", *grantees]]
        statements += [sql for _, sql in grants if sql]
    if meta.comment is not None:
        statements.append(f"COMMENT ON {target} IS {_literal(meta.comment)}")
    statements += settings_sql(meta.settings, name)
    statements.append(f"ALTER {target} CONNECTION LIMIT {int(meta.connection_limit)}")  # last: our sessions count
    return statements


def _grant(item: str, target: str) -> tuple[str, str | None]:
    """(grantee, GRANT statement) for one aclitem text (``galaxy=CTc/postgres``, ``=c/postgres`` for PUBLIC)."""
    found = _ACL_ITEM.match(item)
    if found is None:
        return "PUBLIC", None
    raw = found.group("grantee")
    grantee = quoted(raw[1:-1].replace('""', '"')) if raw.startswith('"') else (quoted(raw) if raw else "PUBLIC")
    letters = found.group("privileges")
    plain = [PRIVILEGES[c] for i, c in enumerate(letters) if c in PRIVILEGES and letters[i + 1 : i + 2] != "*"]
    optioned = [PRIVILEGES[c] for i, c in enumerate(letters) if c in PRIVILEGES and letters[i + 1 : i + 2] == "*"]
    sql = [
        f"GRANT {', '.join(p)} ON {target} TO {grantee}{w}"
        for p, w in ((plain, ""), (optioned, " WITH GRANT OPTION"))
        if p
    ]
    return grantee, "; ".join(sql) or None


def _owner_sql(meta: DatabaseMeta, now: DatabaseMeta) -> list[str]:
    """``ALTER … OWNER TO`` for each relation whose owner differs from the one recorded."""
    statements = []
    for name, (kind, owner) in sorted(meta.owners.items()):
        if name in now.owners and now.owners[name][1] != owner:
            schema, _, relation = name.partition(".")
            statements.append(f"ALTER {KINDS[kind]} {quoted(schema)}.{quoted(relation)} OWNER TO {quoted(owner)}")
    return statements


def _run_each(db: DatabaseUrl, statements: list[str]) -> list[str]:
    import psycopg2

    failed = []
    conn = connect_postgresql(db)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                try:
                    cursor.execute(statement)
                except psycopg2.Error as error:
                    failed.append(f"{statement} ({str(error).strip().splitlines()[0]})")
    finally:
        conn.close()
    return failed
