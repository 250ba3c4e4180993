"""Moving the tool shed install model between databases with Galaxy's own model and scripts.

Both sides of one request, ``{"command": "install_move", "step": ..., "source": URL, "target": URL}``:
the parent's ``install_step`` and the child's ``install_move_here``. Everything the move does to a
database is Galaxy's code: the install model's tables are ``galaxy.model.tool_shed_install``'s
metadata (``create_all`` on the new database, ``drop_all`` on the old), the rows go through those
tables (read with the model's column types, written with them), the new database is stamped by
Galaxy's ``AlembicManager`` with the revision the old one holds, and the old one's version row is
removed by Galaxy's own ``downgrade tsi@base`` (DbScript, as ``manage_db.sh`` runs it).

Steps: ``read`` (per install table: rows, and a digest of the rows as the model reads them; the tsi
revision), ``copy`` (refused when the target holds a row of any install table), ``clear`` (the old
copy, once the parent has read both back), ``seed`` (a few rows made with the model's classes: an
installed repository, its dependencies, tool versions; for the runbook's practice database).
"""

from __future__ import annotations

from runbooks.database.urls import DatabaseUrl

STEPS = ("read", "copy", "clear", "seed")


# -- the parent's side ------------------------------------------------------------------------


def install_step(step: str, source: DatabaseUrl, target: DatabaseUrl | None = None, env=None) -> dict:
    """One step, run with ``env``'s Galaxy code in a fresh child of the Galaxy worker."""
    from runbooks.galaxy.commands import _ask

    request = {"command": "install_move", "step": step, "source": _absolute(source).secret()}
    if target is not None:
        request["target"] = _absolute(target).secret()
    return _ask(request, source, env, what=f"the install model's {step}")


def _absolute(db: DatabaseUrl) -> DatabaseUrl:
    return db.with_database(str(db.sqlite_path)) if db.is_sqlite else db


# -- the child's side (Galaxy's code) -----------------------------------------------------------


def install_move_here(request: dict) -> dict:
    step = request["step"]
    source = DatabaseUrl.parse(request["source"])
    target = DatabaseUrl.parse(request["target"]) if request.get("target") else None
    if step == "read":
        return read_here(source)
    if step == "copy":
        return copy_here(source, target)
    if step == "clear":
        return clear_here(source)
    if step == "seed":
        return seed_here(source)
    return {"refused": f"no install-model step {step!r}: one of {', '.join(STEPS)}"}


def _metadata():
    from galaxy.model.tool_shed_install import Base

    return Base.metadata


def _engine(db: DatabaseUrl):
    from sqlalchemy import create_engine

    return create_engine(db.secret())


def _tsi_revision(engine) -> str | None:
    from galaxy.model.migrations import TSI, AlembicManager

    return AlembicManager(engine).get_model_db_head(TSI)


def read_here(db: DatabaseUrl) -> dict:
    """Per install table: its rows and a digest of them as the model reads them (None: no such table)."""
    import hashlib

    from sqlalchemy import inspect

    engine = _engine(db)
    try:
        present = set(inspect(engine).get_table_names())
        tables = {}
        with engine.connect() as conn:
            for table in _metadata().sorted_tables:
                if table.name not in present:
                    tables[table.name] = None
                    continue
                rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
                text = repr([tuple(row) for row in rows]).encode()
                tables[table.name] = {"rows": len(rows), "digest": hashlib.sha256(text).hexdigest()[:16]}
        revision = _tsi_revision(engine) if "alembic_version" in present else None
        return {"tables": tables, "revision": revision}
    finally:
        engine.dispose()


def copy_here(source: DatabaseUrl, target: DatabaseUrl) -> dict:
    """The install model's tables on ``target`` (Galaxy's metadata ``create_all``), the rows of ``source``
    through them in one transaction, sequences moved past the copied ids, then Galaxy's stamp."""
    from galaxy.model.database_utils import create_database, database_exists
    from galaxy.model.migrations import AlembicManager
    from sqlalchemy import func, select, text

    if not target.is_sqlite and not database_exists(target.secret()):
        create_database(target.secret())  # as Galaxy's startup creates a missing database
    metadata = _metadata()
    source_engine, target_engine = _engine(source), _engine(target)
    try:
        revision = _tsi_revision(source_engine)
        if revision is None:
            return {"refused": f"{source} holds no tsi revision: there is no install model to move from it"}
        metadata.create_all(target_engine)  # checkfirst: empty tables Galaxy already made are kept
        copied = {}
        with source_engine.connect() as read, target_engine.begin() as write:
            for table in metadata.sorted_tables:
                if write.execute(select(func.count()).select_from(table)).scalar():
                    return {"refused": f"{target} already holds rows in {table.name}: nothing was copied"}
            for table in metadata.sorted_tables:
                rows = [dict(row._mapping) for row in read.execute(table.select().order_by(*table.primary_key.c))]
                if rows:
                    write.execute(table.insert(), rows)
                copied[table.name] = len(rows)
                if target_engine.dialect.name == "postgresql":  # the next id Galaxy inserts follows the copied ones
                    write.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                        )
                    )
        stamped = _tsi_revision(target_engine)
        if stamped is None:
            AlembicManager(target_engine).stamp_revision(revision)
        elif stamped != revision:
            return {"refused": f"{target} is stamped tsi {stamped}, the source {revision}: rows copied, not stamped"}
        return {"copied": copied, "revision": revision}
    finally:
        source_engine.dispose()
        target_engine.dispose()


def clear_here(db: DatabaseUrl) -> dict:
    """Galaxy's ``downgrade tsi@base`` on ``db`` (its tsi row goes), then the model's ``drop_all`` there."""
    from runbooks.galaxy.child import run_dbscript_here

    output = run_dbscript_here(db, "downgrade", install=db, revision="tsi@base")
    engine = _engine(db)
    try:
        _metadata().drop_all(engine)
    finally:
        engine.dispose()
    return {"errors": output.errors}


def seed_here(db: DatabaseUrl) -> dict:
    """An installed repository as Galaxy's install model records one: a repository, a dependency on
    another, two tool versions (one the parent of the other), a tool dependency."""
    from galaxy.model import tool_shed_install as tsi
    from sqlalchemy.orm import Session

    engine = _engine(db)
    try:
        with Session(engine) as session, session.begin():
            shed = "toolshed.g2.bx.psu.edu"
            made = [
                tsi.ToolShedRepository(
                    tool_shed=shed,
                    name=name,
                    owner="devteam",
                    installed_changeset_revision=rev,
                    changeset_revision=rev,
                    ctx_rev="7",
                    metadata_={"tools": [{"id": name, "version": "1.0"}]},
                    status="Installed",
                )  # fmt: skip
                for name, rev in (("bwa", "3d5ab9f2d1b1"), ("samtools", "5d4ad3e2b2c3"))
            ]
            session.add_all(made)
            session.flush()
            dependency = tsi.RepositoryDependency(tool_shed_repository_id=made[1].id)
            session.add(dependency)
            session.flush()
            old = tsi.ToolVersion(tool_id=f"{shed}/repos/devteam/bwa/bwa/1.0", tool_shed_repository=made[0])
            new = tsi.ToolVersion(tool_id=f"{shed}/repos/devteam/bwa/bwa/1.1", tool_shed_repository=made[0])
            session.add_all([old, new])
            session.flush()
            session.add_all(
                [
                    tsi.RepositoryRepositoryDependencyAssociation(made[0].id, dependency.id),
                    tsi.ToolVersionAssociation(tool_id=new.id, parent_id=old.id),
                    tsi.ToolDependency(made[1].id, "samtools", "1.9", "package", "Installed"),
                ]
            )
    finally:
        engine.dispose()
    return read_here(db)
