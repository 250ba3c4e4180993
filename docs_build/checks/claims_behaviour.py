"""Claims about what Galaxy does, each checked against its code and an experiment with its scripts."""

from __future__ import annotations

import inspect
import re

from docs_build.checks.claim_registry import (
    _function_source,
    _graph,
    _migrations_dir,
    _revision_files,
    _source,
    check,
)
from docs_build.checks.experiments import experiment

# -- 1. missing and empty databases: no script refuses them ------------------------------------


@check
def no_script_calls_verify_database_is_initialized():
    calls = [
        path.name
        for path in _migrations_dir().rglob("*.py")
        if "verify_database_is_initialized(" in path.read_text(encoding="utf-8")
        and "def verify_database_is_initialized" not in path.read_text(encoding="utf-8")
    ]
    assert calls == [], f"called from {calls}"


@check
def missing_sqlite_upgrade_creates_the_file_and_exits_0():
    found = experiment("missing-sqlite")
    assert found["rc"] == 0 and found["created"]
    assert found["rows"] == ["d4a650f47a3c", "e7b6dcb09efd"]


@check
def empty_sqlite_upgrade_exits_0_at_the_first_revision():
    found = experiment("empty-sqlite")
    assert found["rc"] == 0 and found["rows"] == ["d4a650f47a3c", "e7b6dcb09efd"]


@check
def empty_postgresql_upgrade_fails_with_programming_error():
    found = experiment("empty-postgresql")
    assert found["rc"] == 1
    assert found["error"].startswith("sqlalchemy.exc.ProgrammingError")
    assert 'relation "workflow" does not exist' in found["error"]
    assert found["rows"] == []  # the transaction rolled back: not even the first revision stays


@check
def missing_postgresql_upgrade_fails_with_operational_error():
    found = experiment("missing-postgresql")
    assert found["rc"] == 1 and not found["created"]
    assert found["error"].startswith("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError)")
    assert "does not exist" in found["error"]


# -- 2. an unknown revision fails at startup at once ---------------------------------------------


@check
def unknown_revision_raises_revision_not_found_at_startup():
    found = experiment("unknown-revision")
    assert found["startup"].startswith("RevisionNotFoundError: ")
    assert "except alembic.util.exc.CommandError" in _source("__init__.py")


@check
def unknown_revision_dbversion_cannot_locate():
    found = experiment("unknown-revision")["dbversion"]
    assert found["rc"] == 1 and "Can't locate revision identified by 'ffffffffffff'" in found["stdout"]


# -- 3 and 4. env.py catches OperationalError only, and logs only the deadlock -----------------


@check
def env_catches_only_operational_error():
    body = _function_source(_source("alembic/env.py"), "_run_migrations")
    assert re.findall(r"except (\w+)", body) == ["OperationalError"]
    assert '"40P01"' in body and "raise" in body


@check
def env_logs_only_the_deadlock():
    body = _function_source(_source("alembic/env.py"), "_run_migrations")
    assert body.count("log.") == 1
    deadlock_branch = body[body.index('"40P01"') :]
    assert "log.error(msg)" in deadlock_branch
    assert "no such table" not in experiment("missing-sqlite")["stderr"]  # the swallowed error is not logged


@check
def sqlite_swallows_postgresql_raises():
    sqlite, postgresql = experiment("empty-sqlite"), experiment("empty-postgresql")
    assert sqlite["rc"] == 0 and postgresql["rc"] == 1
    assert "ProgrammingError" in postgresql["error"]


# -- 5. migrate_version: no revision touches it ---------------------------------------------------


@check
def no_revision_touches_migrate_version():
    files = _revision_files("gxy") + _revision_files("tsi")
    assert files and not [p.name for p in files if "migrate_version" in p.read_text(encoding="utf-8")]


@check
def alembic_table_is_read_before_migrate_version():
    body = _function_source(_source("__init__.py"), "_handle_nonempty_database")
    assert body.index("_has_alembic_version_table") < body.index("_has_sqlalchemymigrate_version_table")


@check
def release_22_01_is_base(tag):
    assert _graph().release_tags[str(tag)] == "base", _graph().release_tags[str(tag)]


@check
def sqlalchemy_migrate_last_versions(gxy, tsi=None):
    import galaxy.model.migrations as migrations

    found = (migrations.SQLALCHEMYMIGRATE_LAST_VERSION_GXY, migrations.SQLALCHEMYMIGRATE_LAST_VERSION_TSI)
    assert found[0] == gxy and tsi in (None, found[1]), found


# -- 6. the multiple-heads messages -----------------------------------------------------------------


@check
def upgrade_and_revision_say_different_things_on_two_heads():
    found = experiment("two-heads")
    assert found["upgrade"].startswith("Multiple head revisions are present for given argument 'gxy@head'")
    assert found["revision"].startswith("Multiple heads are present")


# -- 7. status: the same lines as Galaxy's, in another order ---------------------------------------


@check
def status_lines_equal_galaxy_as_sets_not_in_order():
    found = experiment("status-order")
    for view in ("dbversion", "version", "history"):
        assert set(found["ours"][view]) == set(found["galaxy"][view]), view
    assert any(found["ours"][v] != found["galaxy"][v] for v in ("dbversion", "version", "history"))


# -- 8. release tags: upgrade and downgrade only ----------------------------------------------------


@check
def only_upgrade_and_downgrade_map_release_tags():
    import galaxy.model.migrations.base as base

    callers = [
        name
        for name, func in inspect.getmembers(base.BaseDbScript, inspect.isfunction)
        if "self._parse_revision(" in inspect.getsource(func)
    ]
    assert sorted(callers) == ["downgrade", "upgrade"]


@check
def show_with_a_release_tag_fails():
    found = experiment("show-tag")["show_tag"]
    assert found["rc"] == 1 and "Can't locate revision identified by '26.0'" in found["stdout"]


@check
def show_prints_a_revision():
    found = experiment("show-tag")["show_rev"]
    head = _graph().heads("gxy")[0]
    assert found["rc"] == 0 and found["stdout"].startswith(f"Rev: {head} (head)")
    parent = _graph().revisions[head].parents[0]
    for part in (f"Parent: {parent}", "Branch names: gxy", "Path: ", f"Revision ID: {head}"):  # id, parent, ...
        assert part in found["stdout"], part


# -- revision files: where Alembic looks, what fails -----------------------------------------------


@check
def version_locations_are_the_two_branch_folders():
    ini = _source("alembic.ini")
    assert "version_locations = %(here)s/alembic/versions_gxy;%(here)s/alembic/versions_tsi" in ini


@check
def revision_outside_version_locations_is_not_found():
    found = experiment("revision-files")["misplaced"]
    assert found["rc"] == 1 and "Can't locate revision identified by 'abcdef012345'" in found["stdout"]


@check
def revision_that_fails_to_import_breaks_every_command():
    found = experiment("revision-files")["broken"]
    assert found["rc"] == 1 and found["error"].startswith("ImportError: cannot import name 'NoSuchType'")


@check
def revision_file_names_are_rev_underscore_slug(file, revision):
    """Every file is ``<rev>_<slug>.py``; the one whose name and ``revision`` differ is ``file``."""
    graph = _graph()
    paths = {rev.path.name: rev_id for rev_id, rev in graph.revisions.items()}
    assert len(paths) == len(graph.revisions) and all(re.fullmatch(r"[0-9a-f]{12}_\w*\.py", n) for n in paths)
    mismatched = {name[:12]: rev_id for name, rev_id in paths.items() if not name.startswith(f"{rev_id}_")}
    assert mismatched == {file: revision}, mismatched  # Alembic goes by `revision`, not the name


@check
def manage_db_init_is_galaxys_startup_path():
    from galaxy.model.migrations.dbscript import Command

    assert "verify_databases_via_script(" in inspect.getsource(Command.init)
    import galaxy.model.migrations as migrations

    initialize = inspect.getsource(migrations.DatabaseStateVerifier._initialize_database)
    assert "load_metadata(self.metadata" in initialize and "stamp_model_head" in initialize
    assert "create_all" in inspect.getsource(migrations.load_metadata)
