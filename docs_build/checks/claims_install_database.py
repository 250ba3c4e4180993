"""Claims of the separate-install-database page (docs/tasks/install-database.md) and its runbook.

What Galaxy does with one URL or two is read from galaxy-data's own code and, where the page
states a consequence, run: Galaxy's first-start path (``verify_databases_via_script``, through the
tool's worker) on databases Galaxy made, with install rows written by Galaxy's install model.
"""

from __future__ import annotations

import inspect
import tempfile
from functools import cache
from pathlib import Path

from docs_build.checks.claim_registry import check


def _tsi_metadata():
    from galaxy.model.tool_shed_install import Base

    return Base.metadata


@check
def galaxy_reads_install_database_connection():
    """Galaxy's scripts take the tsi URL from ``install_database_connection``, else the galaxy database's."""
    from galaxy.model.migrations import scripts

    source = inspect.getsource(scripts.get_configuration_from_file)
    assert 'url = properties.get("install_database_connection", default_url)' in source
    assert source.index("default_url = gxy_config.url") < source.index('"install_database_connection"')


@check
def install_model_tables(count, tables):
    """The install model's tables (``galaxy.model.tool_shed_install``), and no galaxy-model table refers to one."""
    import galaxy.model

    names = set(_tsi_metadata().tables)
    tables = [tables] if isinstance(tables, str) else list(tables)
    assert len(names) == int(count) and set(tables) <= names, sorted(names)
    referring = [
        (table.name, key.target_fullname)
        for table in galaxy.model.mapper_registry.metadata.tables.values()
        for key in table.foreign_keys
        if key.column.table.name in names
    ]
    assert referring == [] and not names & set(galaxy.model.mapper_registry.metadata.tables), referring


@check
def startup_with_one_url_uses_one_engine():
    """Equal URLs: no second engine, the tsi verifier runs on the galaxy engine after gxy's, and a database
    gxy just initialized is initialized for tsi too (``is_new_database``)."""
    import galaxy.model.migrations as migrations

    script = inspect.getsource(migrations.verify_databases_via_script)
    assert "if tsi_config.url and tsi_config.url != gxy_config.url:" in script
    verify = inspect.getsource(migrations.verify_databases)
    assert "is_new_database = (not tsi_engine or gxy_engine == tsi_engine) and gxy_verifier.is_new_database" in verify
    assert "if self.is_new_database or self._is_database_empty()" in inspect.getsource(
        migrations.DatabaseStateVerifier._handle_empty_database
    )


@check
def startup_with_two_urls_verifies_the_install_database_alone():
    """Two URLs: the tsi verifier gets its own engine and runs every handler there: a missing database is
    created, an empty one initialized, a table without a tsi row initialized or upgraded by its tables."""
    import galaxy.model.migrations as migrations

    script = inspect.getsource(migrations.verify_databases_via_script)
    assert "tsi_engine = create_engine(tsi_config.url)" in script
    run = inspect.getsource(migrations.DatabaseStateVerifier.run)
    assert run.index("_handle_no_database") < run.index("_handle_empty_database") < run.index("_handle_nonempty")
    assert "self._create_database(url)" in inspect.getsource(migrations.DatabaseStateVerifier._handle_no_database)
    tsi = inspect.getsource(migrations.DatabaseStateVerifier._handle_with_alembic)
    tsi = tsi[tsi.index("if self.model == TSI") :]
    assert tsi.index("_no_model_tables_exist") < tsi.index("_initialize_database") < tsi.index("_try_to_upgrade")


def _read(db) -> dict:
    """Per install table, its rows (None: no such table); the tsi revision: read with sqlite3, changing nothing."""
    import sqlite3

    with sqlite3.connect(f"{db.sqlite_path.as_uri()}?mode=ro", uri=True) as conn:
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables = {
            name: conn.execute(f"SELECT * FROM {name} ORDER BY id").fetchall() if name in present else None
            for name in _tsi_metadata().tables
        }
        rows = (
            conn.execute("SELECT version_num FROM alembic_version").fetchall() if "alembic_version" in present else []
        )
    conn.close()
    return {"tables": tables, "revision": next((r for (r,) in rows if r == _tsi_head()), None)}


def _tsi_head() -> str:
    from docs_build.checks.claim_registry import _graph

    (head,) = _graph().heads("tsi")
    return head


@cache
def _switches() -> dict:
    """Galaxy's first-start path on layouts an admin reaches by editing galaxy.yml without moving rows.

    A pair Galaxy made, with an installed repository's rows in the install database; then (a) a fresh
    galaxy database beside that install database, (b) the galaxy database alone (the install URL
    removed), (c) the combined database so made, with rows, beside a new install database."""
    from runbooks.database.urls import DatabaseUrl
    from runbooks.galaxy.commands import initialize
    from runbooks.galaxy.install_move import install_step

    folder = Path(tempfile.mkdtemp(prefix="install-switch-"))
    url = lambda name: DatabaseUrl.parse(f"sqlite:///{folder / name}")  # noqa: E731
    galaxy, install = url("galaxy.sqlite"), url("install.sqlite")
    initialize(galaxy, install_db=install)
    install_step("seed", install)
    found = {"made": _read(install)}
    initialize(url("fresh.sqlite"), install_db=install)
    found |= {"fresh": _read(url("fresh.sqlite")), "install_after_fresh": _read(install)}
    initialize(galaxy)  # install_database_connection removed
    found["galaxy_alone"] = _read(galaxy)
    install_step("seed", galaxy)
    initialize(galaxy, install_db=url("new-install.sqlite"))  # install_database_connection added, rows not moved
    found["new_install"] = _read(url("new-install.sqlite"))
    found["galaxy_kept"] = _read(galaxy)
    return found


def _rows(read: dict) -> int:
    return sum(len(rows) for rows in read["tables"].values() if rows)


@check
def fresh_galaxy_keeps_an_existing_install_database(rows):
    """A new galaxy database beside an install database Galaxy made: Galaxy creates and stamps the galaxy
    database, and the install database keeps every row (the same digest) and its tsi row."""
    found = _switches()
    assert _rows(found["made"]) == int(rows) and found["install_after_fresh"] == found["made"]
    assert all(rows is None for rows in found["fresh"]["tables"].values()) and found["fresh"]["revision"] is None


@check
def switching_without_moving_starts_empty(revision):
    """The install URL removed: Galaxy makes empty install tables in the galaxy database and stamps tsi there;
    added: it makes them empty in the new database; the rows stay where they were either way."""
    found = _switches()
    for made in (found["galaxy_alone"], found["new_install"]):
        assert made["revision"] == revision and _rows(made) == 0 and None not in made["tables"].values(), made
    assert _rows(found["galaxy_kept"]) == _rows(found["made"])


@check
def install_move_uses_galaxys_model():
    """The runbook's move: galaxy.model.tool_shed_install's metadata (create_all, the tables' insert),
    Galaxy's AlembicManager stamp, Galaxy's downgrade tsi@base and the metadata's drop_all."""
    from runbooks.galaxy import install_move

    assert "from galaxy.model.tool_shed_install import Base" in inspect.getsource(install_move._metadata)
    copy = inspect.getsource(install_move.copy_here)
    for step in ("metadata.create_all(target_engine)", "write.execute(table.insert(), rows)"):
        assert step in copy, step
    assert "AlembicManager(target_engine).stamp_revision(revision)" in copy
    clear = inspect.getsource(install_move.clear_here)
    assert 'run_dbscript_here(db, "downgrade", install=db, revision="tsi@base")' in clear and ".drop_all(" in clear


@check
def install_move_reads_back_before_clearing():
    """The target is read back and compared with the source before the source is cleared, then the source
    is read back; done only when both read back right and Galaxy's startup check says OK."""
    from runbooks.tasks import install_move

    run = inspect.getsource(install_move.run_move)
    compared = run.index('if move.target_after["tables"] != move.before["tables"]:')
    assert run.index('install_step("read", move.target') < compared < run.index('install_step("clear"')
    assert run.index("make_backup(") < run.index('install_step("copy"')
    assert run.index('install_step("clear"') < run.index('install_step("read", move.source')
    done = inspect.getsource(install_move.InstallMove.done.fget)
    assert 'self.galaxy_verdict == "OK"' in done and 'self.source_after.get("revision") is None' in done


@check
def install_move_refuses_a_target_with_rows():
    """The plan refuses a source without a tsi revision and a target holding install rows; the copy checks
    the target again inside its transaction."""
    from runbooks.galaxy import install_move as galaxy_side
    from runbooks.tasks import install_move

    plan = inspect.getsource(install_move.plan_move)
    assert "holds no tsi revision" in plan and "already holds install rows" in plan
    assert "already holds rows in" in inspect.getsource(galaxy_side.copy_here)


@check
def pair_changes_move_both():
    """upgrade and downgrade with a separate install database: one backup set naming both, the plan split
    by branch, each part run in its own database."""
    from runbooks.tasks import change, pair_change

    source = inspect.getsource(change)
    assert "make_backup_set(change.selection.db, change.install_db)" in source
    assert "apply_pair(db, change.install_db" in source
    assert "tsi = apply(install_db, tsi_plan" in inspect.getsource(pair_change.apply_pair)
