"""Compares one database with Galaxy's two models in this (fresh) process; prints a one-line JSON reply.

Started by ``runbooks.galaxy.drift``; the database URL arrives in the environment, never in argv.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.galaxy.drift import DRIFT_URL_ENV, REPLY_PREFIX


def _table_of(obj) -> str:
    table = getattr(obj, "table", None)
    if table is None and getattr(obj, "parent", None) is not None:  # a ForeignKeyConstraint's column
        table = getattr(obj.parent, "table", None)
    return getattr(table, "name", "") or ""


def _columns(obj) -> str:
    try:
        return ", ".join(c.name for c in obj.columns)
    except Exception:  # noqa: BLE001 - a constraint without columns: describe it without them
        return ""


def describe(diff) -> list[dict]:
    """Alembic's diff tuples (``modify_*`` come grouped in lists) as plain dictionaries."""
    if isinstance(diff, list):
        return [item for sub in diff for item in describe(sub)]
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        table = diff[1]
        return [{"kind": kind, "table": table.name, "name": table.name, "detail": ""}]
    if kind in ("add_column", "remove_column"):
        _, _schema, table, column = diff
        return [{"kind": kind, "table": table, "name": column.name, "detail": str(column.type)}]
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        unique = "unique, " if index.unique else ""
        return [{"kind": kind, "table": _table_of(index), "name": index.name or "", "detail": unique + _columns(index)}]
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        detail = f"{constraint.__class__.__name__} on {_columns(constraint)}"
        return [{"kind": kind, "table": _table_of(constraint), "name": constraint.name or "", "detail": detail}]
    if kind.startswith("modify_") and len(diff) >= 7:
        _, _schema, table, column, _existing, old, new = diff[:7]
        return [{"kind": kind, "table": table, "name": column, "detail": f"database {old!s}, model {new!s}"}]
    return [{"kind": kind, "table": "", "name": "", "detail": repr(diff[1:])[:200]}]


def compare(db: DatabaseUrl) -> list[dict]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from galaxy.model import Base as GalaxyBase
    from galaxy.model.tool_shed_install import Base as InstallBase
    from sqlalchemy import create_engine

    from runbooks.galaxy.commands import quiet_galaxy_logging

    quiet_galaxy_logging()
    engine = create_engine(db.secret())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's table-sort cycle warnings about Galaxy's model
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diffs = compare_metadata(context, [GalaxyBase.metadata, InstallBase.metadata])
                items = [item for diff in diffs for item in describe(diff)]
                _mark_covered(conn, items)
    finally:
        engine.dispose()
    return items


def _mark_covered(conn, items: list[dict]) -> None:
    """A unique constraint the model wants that the database already enforces on the same columns.

    Galaxy's model declares some twice (``dataset.uuid``: ``unique=True`` and ``uq_uuid_column``);
    reflection returns one per column set, so autogenerate reports the other as missing.
    """
    from sqlalchemy import inspect

    inspector = inspect(conn)
    for item in items:
        if item["kind"] != "add_constraint" or not item["detail"].startswith("UniqueConstraint on "):
            continue
        wanted = set(item["detail"].removeprefix("UniqueConstraint on ").split(", "))
        existing = [set(u["column_names"]) for u in inspector.get_unique_constraints(item["table"])]
        existing += [set(i["column_names"]) for i in inspector.get_indexes(item["table"]) if i.get("unique")]
        item["covered"] = wanted in existing


def main() -> int:
    db = DatabaseUrl.parse(os.environ.pop(DRIFT_URL_ENV))
    try:
        reply = {"differences": compare(db)}
    except Exception as error:  # the answer is the error, one line, masked
        reply = {"exception": mask_text(f"{error.__class__.__name__}: {error}", db.password).splitlines()[0]}
    print(REPLY_PREFIX + json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
