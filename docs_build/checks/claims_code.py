"""Claims about Galaxy's code and revision files: numbers, ids, helpers, read from the installed package."""

from __future__ import annotations

import inspect
import re

from docs_build.checks.claim_registry import (
    _downgrade_does_nothing,
    _env,
    _function_source,
    _graph,
    _revision_files,
    _source,
    check,
)

# -- facts the explanation pages state, computed from the code ---------------------------------------


@check
def branch_table_matches_the_code(head, branch="gxy", files=None, base=None):
    """The branch's head, and as stated its number of revision files and its base."""
    graph = _graph()
    assert graph.heads(branch) == [head], (branch, graph.heads(branch))
    if base is not None:
        assert graph.bases(branch) == [base], (branch, graph.bases(branch))
    if files is not None:
        assert len(_revision_files(branch)) == files, (branch, len(_revision_files(branch)))


@check
def branch_labels_on_first_revisions():
    graph = _graph()
    assert graph.revisions["e7b6dcb09efd"].branch_labels == ("gxy",)
    assert graph.revisions["d4a650f47a3c"].branch_labels == ("tsi",)


@check
def upgrade_without_revision_is_gxy_then_tsi():
    from galaxy.model.migrations.dbscript import DbScript

    body = inspect.getsource(DbScript._upgrade_to_head)
    assert body.index('"gxy@head"') < body.index('"tsi@head"')
    assert inspect.getsource(DbScript._add_branch_label).strip().endswith('return f"gxy@{revision_id}"')


@check
def merges_are_eight_and_empty(count=None, last=None):
    """Merge revisions only pass; after the last one the gxy history is one chain (count and last as stated)."""
    graph = _graph()
    merges = graph.merges("gxy")
    assert count is None or len(merges) == count, len(merges)
    assert last is None or merges[-1] == last, merges[-1]
    assert all(_downgrade_does_nothing(graph.revisions[m].path) for m in merges)
    after = graph.descendants(merges[-1])
    assert all(len(graph.revisions[r].parents) == 1 and len(graph.children[r]) <= 1 for r in after)


@check
def merge_c44ae5f3dcf1_joins_the_25_0_tag(merge, parents, tag, tag_revision):
    graph = _graph()
    assert set(graph.revisions[merge].parents) == set(parents), graph.revisions[merge].parents
    assert graph.release_tags[str(tag)] == tag_revision, graph.release_tags[str(tag)]


@check
def transaction_helper_is_sqlite_only():
    from galaxy.model.migrations import util

    source = inspect.getsource(util.transaction)
    for statement in ('op.execute("BEGIN")', 'op.execute("END")', 'op.execute("ROLLBACK")', "_is_sqlite()"):
        assert statement in source, statement
    assert "context.begin_transaction()" in _source("alembic/env.py")


@check
def with_transaction_count(used, total):
    found = [p for p in _revision_files() if "with transaction():" in p.read_text(encoding="utf-8")]
    assert (len(found), len(_revision_files())) == (used, total), (len(found), len(_revision_files()))


@check
def alter_helpers_use_batch_on_sqlite_and_nothing_offline():
    from galaxy.model.migrations import util

    alter = sorted(
        c.__name__
        for c in vars(util).values()
        if inspect.isclass(c) and issubclass(c, util.DDLAlterOperation) and c is not util.DDLAlterOperation
    )
    assert alter == ["AlterColumn", "CreateForeignKey", "CreateUniqueConstraint", "DropColumn", "DropConstraint"]
    source = inspect.getsource(util)
    assert "batch_alter_table" in source
    assert "Generation of `alter` statements is disabled in offline mode." in source


@check
def legacy_alter_table_pragma():
    source = inspect.getsource(__import__("galaxy.model.migrations.util", fromlist=["x"]))
    assert "PRAGMA legacy_alter_table=1;" in source and "PRAGMA legacy_alter_table=0;" in source
    assert "Prevents error when column belongs to a table referenced in a view" in source


@check
def dialect_specific_revisions():
    calls = {p.name[:12] for p in _revision_files() if "_is_sqlite()" in p.read_text(encoding="utf-8")}
    assert calls == {"a91ea1d97111", "c716ee82337b", "b8d5e2f9a1c7", "04288b6a5b25"}
    jsonb = next(_env().versions_dir("gxy").glob("566b691307a5_*.py")).read_text(encoding="utf-8")
    assert 'with_variant(JSONB, "postgresql")' in jsonb


@check
def one_way_revisions(revisions=(), merges=None, total=None):
    """Each revision named has a downgrade() that does nothing; with ``merges`` and ``total``, those
    are all of them: ``total`` revisions, ``merges`` merges and the ones named."""
    graph = _graph()
    revisions = [revisions] if isinstance(revisions, str) else list(revisions)
    for rev in revisions:
        assert _downgrade_does_nothing(graph.revisions[rev].path), rev
    if not revisions:  # the general sentence: some revision that is not a merge has an empty downgrade()
        plain = set(graph.revisions) - set(graph.merges("gxy"))
        assert any(_downgrade_does_nothing(graph.revisions[r].path) for r in plain)
    if merges is not None or total is not None:
        gxy = [r for r in graph.revisions if graph.branch_of(r) == "gxy"]
        noop = {r for r in gxy if _downgrade_does_nothing(graph.revisions[r].path)}
        others = noop - set(graph.merges("gxy"))
        assert (len(noop), len(noop) - len(others), others) == (total, merges, set(revisions)), (len(noop), others)


@check
def startup_handlers_in_order():
    import galaxy.model.migrations as migrations

    run = inspect.getsource(migrations.DatabaseStateVerifier.run)
    order = [run.index(m) for m in ("_handle_no_database", "_handle_empty_database", "_handle_nonempty_database")]
    assert order == sorted(order)
    source = inspect.getsource(migrations)
    assert "contains_only_kombu_tables" in source and "stamp_model_head" in source


@check
def auto_migrate_defaults_to_false():
    body = _function_source(_source("scripts.py"), "get_configuration_from_file")
    assert 'properties.get("database_auto_migrate", False)' in body


@check
def repair_only_on_db_dev(flag):
    """Galaxy's builder adds ``flag`` to upgrade and downgrade only with ``dev_options``, off by default.
    With a Galaxy checkout given, its scripts are read too: only ``scripts/db_dev.sh`` asks for it."""
    from galaxy.model.migrations.base import BaseParserBuilder

    from docs_build.generated.galaxy_scripts import _repair_flags, galaxy_root, read_scripts

    assert _repair_flags() == {flag}, _repair_flags()
    for method in ("add_upgrade_command", "add_downgrade_command"):
        assert inspect.signature(getattr(BaseParserBuilder, method)).parameters["dev_options"].default is False
    others = [
        n
        for n in vars(BaseParserBuilder)
        if n.startswith("add_") and n not in ("add_upgrade_command", "add_downgrade_command")
    ]
    assert all("dev_options" not in inspect.signature(getattr(BaseParserBuilder, n)).parameters for n in others)
    specs = read_scripts(galaxy_root())
    if specs:
        asks = {s for s, spec in specs.items() if any(kw.get("dev_options") for _, kw in spec["calls"])}
        assert asks == {"scripts/db_dev.sh"}, asks


@check
def skill_is_out_of_date_on_exceptions_and_signatures():
    from galaxy.model.migrations import exceptions, util

    assert not hasattr(exceptions, "IncorrectVersionError")
    assert "incorrectversionerror" in str(exceptions.IncorrectSAMigrateVersionError("galaxy", 180))
    assert list(inspect.signature(util.create_foreign_key).parameters)[:5] == [
        "foreign_key_name",
        "table_name",
        "referent_table",
        "local_cols",
        "remote_cols",
    ]
    outdated = str(exceptions.OutdatedDatabaseError("galaxy", "X", "Y", "manage_db.sh upgrade"))
    assert outdated.startswith("Your galaxy database has version X, but this code expects version Y.")


@check
def template_imports_op_and_no_example_revision(absent=None, importing=None):
    """Galaxy's template imports ``op``; ``importing`` revisions import it; revision ``absent`` is not in the code."""
    assert "from alembic import op" in _source("alembic/script.py.mako")
    assert absent is None or not list(_env().versions_dir("gxy").glob(f"{absent}*")), absent
    found = [p for p in _revision_files() if re.search(r"^from alembic import op\b", p.read_text(), re.M)]
    assert importing is None or len(found) == importing, len(found)


@check
def only_04288b6a5b25_calls_gen_random_uuid(revision):
    """Galaxy issue 18877: the one revision that calls gen_random_uuid (pgcrypto before PostgreSQL 13)."""
    from runbooks.code.server_needs import server_needs

    graph = _graph()
    needs = server_needs(graph, graph.in_order())
    assert needs.functions == {"gen_random_uuid": [revision]}, needs.functions


@check
def galaxy_scripts_fall_back_to_database_universe_sqlite():
    """Galaxy's scripts read galaxy.yml from the root or config/, never a sample, else database/universe.sqlite."""
    import inspect

    from galaxy.model.migrations import scripts
    from galaxy.util import properties

    source = inspect.getsource(scripts.get_configuration_from_file)
    assert "universe.sqlite" in source and "CONFIG_DIR_NAME" in source
    assert scripts.DEFAULT_CONFIG_NAMES == ["galaxy", "universe_wsgi"]
    assert "include_samples=False" in inspect.signature(properties.find_config_file).__str__().replace(" ", "")


@check
def gen_random_uuid_is_built_into_postgresql_13_and_later(version):
    """The build's PostgreSQL (``version`` or later) has gen_random_uuid in pg_catalog, with no extension installed."""
    from docs_build.checks.experiments import PG_SERVER
    from runbooks.database.connections import read_only_cursor
    from runbooks.database.urls import DatabaseUrl

    with read_only_cursor(DatabaseUrl.parse(f"{PG_SERVER}/postgres")) as cursor:
        cursor.execute(
            "SELECT current_setting('server_version_num')::int, EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE p.proname = 'gen_random_uuid' AND n.nspname = 'pg_catalog')"
        )
        number, built_in = cursor.fetchone()
    assert number >= version * 10000 and built_in, (number, built_in)


@check
def manage_db_upgrade_does_not_read_migrate_version():
    """`manage_db.sh upgrade` is DbScript.upgrade: Alembic's upgrade, with no look at SQLAlchemy Migrate's table."""
    from galaxy.model.migrations import base, dbscript

    path = [
        inspect.getsource(base.BaseDbScript.upgrade),
        inspect.getsource(base.BaseDbScript._upgrade_to_revision),
        inspect.getsource(dbscript.DbScript._upgrade_to_head),
    ]
    assert "command.upgrade" in path[1]
    for source in path:
        assert not re.search(r"migrate_version|SQLALCHEMYMIGRATE|verify|DatabaseStateVerifier", source), source


@check
def legacy_release_migrate_versions():
    """The table in runbooks.tasks.legacy_plan is what the committed databases of those releases hold."""
    import gzip
    import sqlite3
    import tempfile

    import galaxy.model.migrations as migrations

    from runbooks.paths import PROJECT_ROOT
    from runbooks.tasks.legacy_plan import RELEASE_MIGRATE_VERSIONS

    fixtures = PROJECT_ROOT / "tests" / "fixtures" / "releases"
    found = {}
    for release, package in (("20.09", "20.9.1"), ("21.09", "21.9.0"), ("22.01", "22.1.1")):
        with tempfile.NamedTemporaryFile(suffix=".sqlite") as copy:
            copy.write(gzip.open(fixtures / f"galaxy-data-{package}.migrate.sqlite.gz").read())
            copy.flush()
            with sqlite3.connect(copy.name) as conn:
                (found[release],) = conn.execute("SELECT version FROM migrate_version").fetchone()
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                assert "alembic_version" not in tables, release  # Migrate's databases have no Alembic table
    assert found == RELEASE_MIGRATE_VERSIONS == {"20.09": 170, "21.09": 179, "22.01": 180}
    assert found["22.01"] == migrations.SQLALCHEMYMIGRATE_LAST_VERSION_GXY


def _row_changes(path) -> set[str]:
    """What a revision's ``upgrade()`` does beyond the catalog: SQL it executes, a connection it
    uses, a column type it changes or a column it makes NOT NULL."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    found = set()
    for node in ast.walk(upgrade):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        keywords = {k.arg: k.value for k in node.keywords}
        nullable = keywords.get("nullable")
        found |= {"execute"} if name == "execute" else set()
        found |= {"connection"} if name == "get_bind" else set()
        found |= {"type"} if name == "alter_column" and "type_" in keywords else set()
        found |= {"not-null"} if name == "alter_column" and getattr(nullable, "value", None) is False else set()
    return found


@check
def upgrade_from_a_tag_changes_rows_only_in(tag, count, revisions, empty=()):
    """An upgrade from ``tag`` runs ``count`` gxy revisions; the ones whose upgrade() goes beyond the
    catalog are ``revisions``; the tables named ``empty`` have no rows in the benchmark's base."""
    import json

    from runbooks.paths import PROJECT_ROOT

    graph = _graph()
    runs = graph.ancestors(graph.heads("gxy")) - graph.ancestors([graph.release_tags[str(tag)]])
    assert len(runs) == count, len(runs)
    beyond = {rev for rev in runs if _row_changes(graph.revisions[rev].path)}
    assert beyond == set(revisions), beyond
    for rev in (r for r in beyond if "type" in _row_changes(graph.revisions[r].path)):  # tables made in the same run
        tables = re.findall(r'_table_name = "(\w+)"', graph.revisions[rev].path.read_text(encoding="utf-8"))
        texts = [graph.revisions[o].path.read_text(encoding="utf-8") for o in runs - {rev}]
        assert all(any("create_table" in t and f'"{name}"' in t for t in texts) for name in tables), (rev, tables)
    sizes = json.loads((PROJECT_ROOT / "bench" / "results" / "scale_large.json").read_text())["table_sizes"]
    assert all(sizes[table]["rows"] == 0 for table in ([empty] if isinstance(empty, str) else empty)), sizes
