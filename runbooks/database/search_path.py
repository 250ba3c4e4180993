"""Which schema a migration changes, against the schema Galaxy reads (PostgreSQL).

A migration's unqualified names go to ``current_schema()``: the first schema of the session's
``search_path`` that exists (the role's or the database's setting, or the URL's ``options``).
Galaxy reads its version table where that path finds ``alembic_version``. When a schema before
Galaxy's in the path exists (``ALTER DATABASE … SET search_path = zz, public``), new tables land
there and an ALTER meets a same-named table of that schema instead of Galaxy's, while the version
table still reads as migrated. ``schema_place`` tells the two apart, read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl

PLACE = """
SELECT current_schema(), current_setting('search_path'), current_schemas(false),
       (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass('alembic_version'))
"""
HIDDEN = """
SELECT earlier.schemaname || '.' || earlier.tablename FROM pg_tables earlier
JOIN pg_tables galaxy ON galaxy.tablename = earlier.tablename AND galaxy.schemaname = %(galaxy)s
WHERE array_position(current_schemas(false), earlier.schemaname)
      < array_position(current_schemas(false), %(galaxy)s::name)
ORDER BY 1
"""


@dataclass(frozen=True)
class SchemaPlace:
    changed: str | None  # current_schema(): where a migration creates and first looks
    search_path: str
    galaxy: str | None  # the schema of the alembic_version Galaxy reads (None: no version table)
    hiding: tuple[str, ...] = ()  # schema.table earlier in the path that hides a Galaxy table

    @property
    def split(self) -> bool:
        return self.galaxy is not None and (self.changed != self.galaxy or bool(self.hiding))

    def problem(self) -> str:
        hidden = f"; {', '.join(self.hiding[:5])} hide Galaxy's tables of the same name" if self.hiding else ""
        return (
            f"search_path is {self.search_path!r}: a migration would change schema {self.changed} "
            f"while Galaxy's version table is in schema {self.galaxy}{hidden}"
        )


def schema_place(db: DatabaseUrl) -> SchemaPlace:
    """Where a session of ``db`` (its URL, role and database settings) writes and where Galaxy's tables are."""
    with read_only_cursor(db) as cursor:
        cursor.execute(PLACE)
        changed, search_path, _, galaxy = cursor.fetchone()
        hiding: tuple[str, ...] = ()
        if galaxy is not None:
            cursor.execute(HIDDEN, {"galaxy": galaxy})
            hiding = tuple(row[0] for row in cursor.fetchall())
    return SchemaPlace(changed, search_path, galaxy, hiding)
