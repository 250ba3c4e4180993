"""Claims the task and explanation pages make beyond the first fixes, each against Galaxy's code,
Alembic, SQLite/PostgreSQL themselves, or an experiment (``docs_build/checks/experiments_topics.py``)."""

from __future__ import annotations

import ast
import inspect
import re
import sqlite3
from pathlib import Path

from docs_build.checks import experiments_topics  # noqa: F401  (registers the experiments)
from docs_build.checks.claim_registry import _downgrade_does_nothing, _env, _graph, _revision_files, _source, check
from docs_build.checks.experiments import experiment


def _dbscript():
    from galaxy.model.migrations.dbscript import DbScript

    return DbScript.__new__(DbScript)  # no configuration read: only the argument mapping is used


# -- Galaxy's commands are Alembic's commands -------------------------------------------------------


@check
def db_dev_views_are_alembic_commands():
    from galaxy.model.migrations.base import BaseDbScript

    calls = {
        "dbversion": "command.current(",
        "version": "command.heads(",
        "history": "indicate_current=args.indicate_current",
        "show": "command.show(",
    }
    for name, call in calls.items():
        assert call in inspect.getsource(getattr(BaseDbScript, name)), name
    version = experiment("run-alembic")["tsi-heads"]["stdout"]
    assert "(gxy) (head)" in version and "(tsi) (head)" in version


@check
def scripts_import_the_whole_model():
    assert "from galaxy.model import Base" in _source("alembic/env.py")
    imports = [p for p in _revision_files() if re.search(r"^from galaxy\.model", p.read_text(), re.M)]
    assert len(imports) > 60  # importing any galaxy.model.* module runs galaxy/model/__init__.py


@check
def upgrade_argument_forms():
    script = _dbscript()
    assert script._parse_revision("+1") == "gxy@+1" and script._parse_revision("-1") == "gxy@-1"
    assert script._parse_revision("25.0") == script._parse_revision("release_25.0") == _graph().release_tags["25.0"]
    assert script._parse_revision("9930b6") == "9930b6"  # a prefix goes to Alembic unchanged
    assert script._parse_revision("22.01") == "base"  # not gxy@base: both rows go


@check
def revision_command_is_gxy_head_without_autogenerate():
    from galaxy.model.migrations.base import BaseDbScript

    source = inspect.getsource(BaseDbScript.revision)
    assert 'self._add_branch_label("head")' in source and "autogenerate" not in source
    assert "file_template" not in _source("alembic.ini")  # Alembic's default: %(rev)s_%(slug)s


@check
def repair_skips_conflicting_objects_only_in_helpers():
    from galaxy.model.migrations import util

    source = inspect.getsource(util)
    assert source.count("_is_repair_mode()") >= 1 and "def _is_repair_mode" in source
    help_text = inspect.getsource(__import__("galaxy.model.migrations.base", fromlist=["x"]))
    assert "implicitly created objects" in help_text and "must be removed manually" in help_text


# -- several current revisions after Galaxy's plain downgrade --------------------------------------


@check
def plain_downgrade_across_a_merge_leaves_side_rows():
    found = experiment("multiple-current")
    assert found["rc"] == 0 and found["rows"] == ["c716ee82337b", "d4a650f47a3c", "fb16d09348db"]
    assert "fb16d09348db" not in _graph().ancestors([_graph().release_tags["25.0"]])


@check
def minus_one_and_plus_one_fail_on_several_current_rows():
    found = experiment("multiple-current")
    assert found["minus"]["rc"] == 1 and found["minus"]["error"].startswith("AssertionError")
    assert found["plus"]["rc"] == 1 and "Ambiguous upgrade from multiple current revisions" in found["plus"]["stdout"]


# -- the SQLAlchemy Migrate hand-over ------------------------------------------------------------


@check
def handover_upgrade_runs_every_revision_and_keeps_migrate_version():
    found = experiment("handed-over")
    assert found["rc"] == 0 and found["rows"] == sorted([*_graph().heads("gxy"), *_graph().heads("tsi")])
    assert found["migrate_version"] == [180]
    assert found["upgrades"] == len(_graph().revisions)  # every gxy revision, from the base, and tsi's one


@check
def first_gxy_and_tsi_revisions_change_nothing():
    graph = _graph()
    for rev in ("e7b6dcb09efd", "d4a650f47a3c"):
        text = graph.revisions[rev].path.read_text(encoding="utf-8")
        upgrade = text[text.index("def upgrade") : text.index("def downgrade")]
        assert re.sub(r'"""[^"]*"""', "", upgrade).split(":", 1)[1].split() == ["pass"], rev
    assert len(_revision_files("tsi")) == 1


@check
def startup_checks_migrate_version_180_and_17():
    import galaxy.model.migrations as migrations

    source = inspect.getsource(migrations.DatabaseStateVerifier._handle_nonempty_database)
    assert source.index("_has_alembic_version_table") < source.index("_is_last_sqlalchemymigrate_version")
    assert "_try_to_upgrade(has_alembic=False)" in source and "_handle_wrong_sqlalchemymigrate_version" in source
    assert "raise SAMigrateError" in inspect.getsource(migrations.DatabaseStateVerifier._try_to_upgrade)


# -- startup ---------------------------------------------------------------------------------------


@check
def empty_means_no_tables_or_only_kombu():
    import galaxy.model.migrations as migrations

    source = inspect.getsource(migrations.DatabaseStateVerifier._handle_empty_database)
    assert "_is_database_empty()" in source and "_contains_only_kombu_tables()" in source


@check
def missing_row_gxy_fails_tsi_guesses():
    import galaxy.model.migrations as migrations

    source = inspect.getsource(migrations.DatabaseStateVerifier._handle_with_alembic)
    assert "raise RevisionNotFoundError(model)" in source
    tsi = source[source.index("if self.model == TSI") :]
    assert tsi.index("_initialize_database") < tsi.index("_try_to_upgrade")


@check
def new_database_is_created_with_create_all_and_stamped():
    import galaxy.model.migrations as migrations

    initialize = inspect.getsource(migrations.DatabaseStateVerifier._initialize_database)
    assert "load_metadata" in initialize and "stamp_model_head" in initialize
    assert "upgrade" not in initialize


@check
def initialization_takes_no_lock():
    import galaxy.model.migrations as migrations

    verifier = inspect.getsource(migrations.DatabaseStateVerifier).lower()
    assert "lock" not in verifier and "_initialize_database" in verifier


# -- SQLite and PostgreSQL themselves --------------------------------------------------------------


@check
def sqlite_drops_columns_but_alembic_batch_still_rebuilds(version=None):
    """On this SQLite (``version`` or later), Alembic's plain ``op.drop_column`` emits ``ALTER TABLE ...
    DROP COLUMN``; the same drop in batch mode (what Galaxy's helper uses on SQLite) rebuilds the table."""
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    if version is not None:
        assert tuple(map(int, sqlite3.sqlite_version.split("."))) >= tuple(map(int, str(version).split(".")))
    engine = sa.create_engine("sqlite://")
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a integer, b integer, c integer)")
        op = Operations(MigrationContext.configure(conn))
        seen.clear()
        op.drop_column("t", "b")
        plain = [" ".join(s.split()) for s in seen if not s.startswith(("PRAGMA", "SELECT"))]
        seen.clear()
        with op.batch_alter_table("t") as batch:
            batch.drop_column("c")
        batched = [" ".join(s.split()) for s in seen if not s.startswith(("PRAGMA", "SELECT"))]
    assert plain == ["ALTER TABLE t DROP COLUMN b"], plain
    assert batched[0].startswith("CREATE TABLE _alembic_tmp_t"), batched
    assert batched[-1] == "ALTER TABLE _alembic_tmp_t RENAME TO t", batched
    from galaxy.model.migrations import util

    assert issubclass(util.DropColumn, util.DDLAlterOperation)
    assert "batch_alter_table" in inspect.getsource(util.DDLAlterOperation)


@check
def sqlite_rename_rewrites_views_unless_legacy():
    found = {}
    for legacy in (0, 1):
        conn = sqlite3.connect(":memory:")
        conn.executescript(
            f"PRAGMA legacy_alter_table={legacy}; CREATE TABLE t (a); CREATE VIEW v AS SELECT a FROM t;"
            "ALTER TABLE t RENAME TO t2;"
        )
        found[legacy] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'v'").fetchone()[0]
    assert '"t2"' in found[0] and "FROM t;" not in found[0] and found[1].endswith("FROM t")


@check
def sqlite_does_not_enforce_foreign_keys_by_default(function, module):
    """SQLite enforces foreign keys only on a connection that turned them on, outside a transaction,
    and keeps the setting for that connection; the one place Galaxy turns them on is ``function``
    in ``module`` (its engine setup and its migrations never do)."""
    import galaxy
    from galaxy.model.orm import engine_factory

    conn = sqlite3.connect(":memory:", isolation_level=None)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)  # off by default
    conn.execute("BEGIN")
    conn.execute("PRAGMA foreign_keys = ON")
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)  # ignored inside a transaction
    conn.execute("COMMIT")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    conn.execute("COMMIT")
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)  # kept by the connection
    assert "foreign_keys" not in inspect.getsource(engine_factory)
    root = Path(galaxy.__path__[0])
    pragma = re.compile(r"PRAGMA foreign_keys\s*=\s*(ON|1|true)", re.I)
    found = []
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        if pragma.search(text):
            tree = ast.parse(text)
            found += [
                (str(path.relative_to(root.parent)), node.name)
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and pragma.search(ast.get_source_segment(text, node) or "")
            ]
    assert found == [(module, function)], found


@check
def alembic_version_column_is_32_characters(length):
    from alembic.ddl import impl

    assert f'Column("version_num", String({length}), nullable=False)' in inspect.getsource(impl)


@check
def one_transaction_per_command_run():
    configure = _source("alembic/env.py")
    assert "transaction_per_migration" not in configure and configure.count("context.begin_transaction()") == 1
    assert experiment("empty-postgresql")["rows"] == []  # not even the first revision, which ran, stays


@check
def dialect_table_rows_match_the_revisions():
    texts = {rev: _graph().revisions[rev].path.read_text(encoding="utf-8") for rev in ("a91ea1d97111", "b8d5e2f9a1c7")}
    assert "clock_timestamp()" in texts["a91ea1d97111"] and "pg_notify" in texts["b8d5e2f9a1c7"]
    uuids = _graph().revisions["04288b6a5b25"].path.read_text(encoding="utf-8")
    assert "lower(hex(randomblob(16)))" in uuids and "gen_random_uuid()" in uuids
    assert _downgrade_does_nothing(_graph().revisions["c716ee82337b"].path)


@check
def default_database_url_is_universe_sqlite():
    from galaxy.model.migrations import scripts

    assert "universe.sqlite')}?isolation_level=IMMEDIATE" in inspect.getsource(scripts.get_configuration_from_file)
    assert "./database" in inspect.getsource(__import__("galaxy.util.properties", fromlist=["x"]).get_data_dir)


@check
def model_and_custom_types_modules():
    from galaxy.model import custom_types, tool_shed_install  # noqa: F401

    for name in ("JSONType", "MutableJSONType", "TrimmedString", "UUIDType", "MetadataType"):
        assert hasattr(custom_types, name), name
    users = [p for p in _revision_files() if "galaxy.model.custom_types" in p.read_text(encoding="utf-8")]
    assert len(users) >= 10
    assert _env().versions_dir("gxy").name == "versions_gxy"


# -- how PostgreSQL copies a database for a rehearsal ------------------------------------------------


@check
def file_copy_skips_the_wal_and_requests_checkpoints():
    found = experiment("copy-strategies")
    # WAL_LOG logs the copy's pages (its WAL is of the order of the database's size; free space and
    # unlogged forks make it somewhat less); FILE_COPY's WAL is a small fraction of that.
    assert found["WAL_LOG"]["wal_bytes"] >= found["template_bytes"] / 2, found
    assert found["FILE_COPY"]["wal_bytes"] < found["WAL_LOG"]["wal_bytes"] / 10, found
    assert found["FILE_COPY"]["checkpoints_requested"] >= 1, found


@check
def pysqlite_leaves_ddl_outside_its_transaction():
    """Python's sqlite3 (legacy transaction control, as SQLAlchemy uses it) opens its transaction
    before INSERT/UPDATE/DELETE, not before CREATE/ALTER/DROP."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a integer)")
    assert not conn.in_transaction
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetchone() == (1,)  # not undone
    conn.execute("INSERT INTO t VALUES (1)")
    assert conn.in_transaction
