"""Claims bound to checks: ``<!-- check: NAME -->`` after a sentence names a function here.

Each check is a small function (pytest-alembic style) asserting one fact against the installed
Galaxy code, Alembic, or an experiment with Galaxy's own scripts (``docs_build/experiments.py``).
The docs hook runs the checks each page names and fails the build when one is missing or
fails; ``tests/test_claims.py`` runs them all without building the site.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from docs_build.experiments import experiment
from runbooks.paths import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
NOTEBOOKS = PROJECT_ROOT / "notebooks"
CHECK_MARKER = re.compile(r"<!-- check: ([a-z0-9_]+) -->")
GENERATED_MARKER = re.compile(r"<!-- generated: ([a-z0-9-]+) -->")

CHECKS: dict[str, Callable[[], None]] = {}


def check(func: Callable[[], None]) -> Callable[[], None]:
    CHECKS[func.__name__] = func
    return func


@cache
def _env():
    from runbooks.code.environment import GalaxyEnv

    return GalaxyEnv.from_package()


@cache
def _graph():
    from runbooks.code.revisions import RevisionGraph

    return RevisionGraph.load(_env())


def _migrations_dir() -> Path:
    return _env().script_location.parent


def _source(name: str) -> str:
    return (_migrations_dir() / name).read_text(encoding="utf-8")


def _revision_files(branch: str = "gxy") -> list[Path]:
    return sorted(_env().versions_dir(branch).glob("*.py"))


def _function_source(module_text: str, name: str) -> str:
    tree = ast.parse(module_text)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.get_source_segment(module_text, node)


def _downgrade_does_nothing(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade")
    body = [s for s in func.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return all(isinstance(s, ast.Pass) for s in body)


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
def release_22_01_is_base():
    assert _graph().release_tags["22.01"] == "base"


@check
def sqlalchemy_migrate_last_versions():
    import galaxy.model.migrations as migrations

    assert (migrations.SQLALCHEMYMIGRATE_LAST_VERSION_GXY, migrations.SQLALCHEMYMIGRATE_LAST_VERSION_TSI) == (180, 17)


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
def revision_file_names_are_rev_underscore_slug():
    graph = _graph()
    paths = {rev.path.name: rev_id for rev_id, rev in graph.revisions.items()}
    assert len(paths) == 82 and all(re.fullmatch(r"[0-9a-f]{12}_\w*\.py", n) for n in paths)
    mismatched = {name[:12]: rev_id for name, rev_id in paths.items() if not name.startswith(f"{rev_id}_")}
    assert mismatched == {"23143e0bf1d8": "b964490175fd"}  # Alembic goes by `revision`, not the name


# -- facts the explanation pages state, computed from the code ---------------------------------------


@check
def branch_table_matches_the_code():
    graph = _graph()
    assert (graph.bases("gxy"), graph.heads("gxy")) == (["e7b6dcb09efd"], ["fac9c76612f9"])
    assert (graph.bases("tsi"), graph.heads("tsi")) == (["d4a650f47a3c"], ["d4a650f47a3c"])
    assert (len(_revision_files("gxy")), len(_revision_files("tsi"))) == (81, 1)


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
def merges_are_eight_and_empty():
    graph = _graph()
    merges = graph.merges("gxy")
    assert len(merges) == 8 and merges[-1] == "75b461a2b24a"
    assert all(_downgrade_does_nothing(graph.revisions[m].path) for m in merges)
    after = graph.descendants(merges[-1])
    assert all(len(graph.revisions[r].parents) == 1 and len(graph.children[r]) <= 1 for r in after)


@check
def merge_c44ae5f3dcf1_joins_the_25_0_tag():
    graph = _graph()
    assert set(graph.revisions["c44ae5f3dcf1"].parents) == {"c716ee82337b", "fb16d09348db"}
    assert graph.release_tags["25.0"] == "c716ee82337b"


@check
def transaction_helper_is_sqlite_only():
    from galaxy.model.migrations import util

    source = inspect.getsource(util.transaction)
    for statement in ('op.execute("BEGIN")', 'op.execute("END")', 'op.execute("ROLLBACK")', "_is_sqlite()"):
        assert statement in source, statement
    assert "context.begin_transaction()" in _source("alembic/env.py")


@check
def with_transaction_count():
    used = [p for p in _revision_files() if "with transaction():" in p.read_text(encoding="utf-8")]
    assert (len(used), len(_revision_files())) == (38, 81)


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
def one_way_revisions():
    graph = _graph()
    assert _downgrade_does_nothing(graph.revisions["e93c5d0b47a9"].path)
    assert _downgrade_does_nothing(graph.revisions["c716ee82337b"].path)


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
def repair_only_on_db_dev():
    from docs_build.galaxy_scripts import SCRIPT_BUILDERS

    assert SCRIPT_BUILDERS["manage_db.sh"]["calls"][0] == ("add_upgrade_command", {})
    assert SCRIPT_BUILDERS["scripts/db_dev.sh"]["calls"][0] == ("add_upgrade_command", {"dev_options": True})
    from galaxy.model.migrations import base

    assert "dev_options" in inspect.getsource(base.BaseParserBuilder._get_upgrade_downgrade_arg_parsers)


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
def template_imports_op_and_no_example_revision():
    assert "from alembic import op" in _source("alembic/script.py.mako")
    assert not list(_env().versions_dir("gxy").glob("04cda22c48a9*"))
    importing = [p for p in _revision_files() if re.search(r"^from alembic import op\b", p.read_text(), re.M)]
    assert len(importing) == 21
    assert sum(map(_downgrade_does_nothing, _revision_files())) == 11


# -- reading the pages ------------------------------------------------------------------------------


def page_sources() -> dict[str, str]:
    """Every hand-written page (``docs/**.md``) and runbook (markdown cells), by name."""
    found = {str(p.relative_to(DOCS)): p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md"))}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        found[f"runbooks/{path.name}"] = "\n\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
        )
    return found


def named_checks(text: str) -> list[str]:
    return CHECK_MARKER.findall(text)


def run_check(name: str) -> str | None:
    """None when the check passes, else why not (a missing check fails too)."""
    func = CHECKS.get(name)
    if func is None:
        return f"no check named {name!r} in docs_build/claims.py"
    try:
        func()
    except Exception as error:  # an assertion or a broken check: the claim is not shown true
        return f"{name} failed: {error.__class__.__name__}: {error}"[:500]
    return None
