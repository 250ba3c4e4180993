"""Claims the create task page and the first-migration tutorial make about this project's create, lint and
proof steps, each against the code that does them: called on a workspace in a temporary folder or on a small
revision file (no Galaxy command runs), or read where running it would need Galaxy's scripts."""

from __future__ import annotations

import atexit
import inspect
import json
import tempfile
from functools import cache
from pathlib import Path

from docs_build.checks.claim_registry import _env, _graph, check
from runbooks.paths import PROJECT_ROOT


@cache
def _workspace() -> Path:
    """A workspace made by ``ensure_workspace`` in a temporary folder (once per process)."""
    from runbooks.code.workspace import ensure_workspace

    scratch = tempfile.TemporaryDirectory(prefix="claims-workspace-")
    atexit.register(scratch.cleanup)
    folder = Path(scratch.name) / "workspace"
    ensure_workspace(folder)
    return folder


def _revision_file(folder: Path, down_revision: str, first_line: str = "") -> Path:
    path = folder / "0123456789ab_claims_probe.py"
    path.write_text(
        f'"""claims probe\n\nRevision ID: 0123456789ab\nRevises: {down_revision}\nCreate Date: 2026-01-01\n"""\n'
        f"{first_line}\nfrom alembic import op\n\n"
        f'revision = "0123456789ab"\ndown_revision = "{down_revision}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n    op.add_column('job', None)\n\n\ndef downgrade():\n    pass\n",
        encoding="utf-8",
    )
    return path


def _notebook(task: str) -> str:
    cells = json.loads((PROJECT_ROOT / "notebooks" / f"{task}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells)


# -- the commands and the runbook -------------------------------------------------------------------


@check
def create_runbook_takes_message_table_and_column(parameters=("message", "table", "column")):
    from runbooks.cli.notebook_run import available_tasks, notebook_path
    from runbooks.cli.parameters import declared_parameters

    assert "create" in available_tasks()
    assert set(parameters) <= set(declared_parameters(notebook_path("create")))


@check
def create_and_lint_are_commands(commands=("create", "lint")):
    from runbooks.cli.main import build_parser

    choices = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction").choices
    assert set(commands) <= set(choices)
    assert {"-m", "--galaxy-root", "--workspace"} <= set(choices["create"]._option_string_actions)
    assert {"--json", "--galaxy-root", "--workspace", "--pg"} <= set(choices["lint"]._option_string_actions)


@check
def create_makes_the_file_with_galaxys_command_then_lint_and_proof():
    from runbooks.tasks import create, revision_proof

    assert 'run_dbscript(unused, "revision"' in inspect.getsource(create.create_revision)
    assert "lint_paths(paths, graph)" in inspect.getsource(create.lint_revisions)
    source = inspect.getsource(revision_proof.round_trip)
    assert '(("upgrade", rev), ("downgrade", parent), ("upgrade", rev))' in source


@check
def model_files_of_both_models(model=None, install_model=None):
    import galaxy.model
    import galaxy.model.tool_shed_install

    from runbooks.tasks.create import MODEL_FILE

    model = model or MODEL_FILE
    install_model = install_model or "lib/galaxy/model/tool_shed_install/__init__.py"
    assert MODEL_FILE == model and Path(galaxy.model.__file__).as_posix().endswith(model.removeprefix("lib/"))
    assert Path(galaxy.model.tool_shed_install.__file__).as_posix().endswith(install_model.removeprefix("lib/"))


# -- the workspace ----------------------------------------------------------------------------------


@check
def workspace_default_is_gitignored_in_the_project(folder):
    from runbooks.code.workspace import default_workspace_dir
    from runbooks.paths import runbook_home

    assert default_workspace_dir() == runbook_home() / "workspace"
    assert folder.rstrip("/") == ".runbooks/workspace"
    assert ".runbooks/" in (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert 'return PROJECT_ROOT / ".runbooks"' in inspect.getsource(runbook_home)  # in a clone, unless overridden


@check
def workspace_copies_the_installed_environment(files):
    folder, installed = _workspace(), _env().migrations_dir
    for name in files:
        found = [p for p in folder.rglob(name) if "__pycache__" not in p.parts]
        assert found, name
    assert {p.name for p in (folder / "alembic" / "versions_gxy").glob("*.py")} == {
        p.name for p in (installed / "alembic" / "versions_gxy").glob("*.py")
    }
    assert folder.resolve() not in installed.resolve().parents


@check
def workspace_from_another_galaxy_data_is_refused():
    from runbooks.code.workspace import MARKER, ensure_workspace
    from runbooks.errors import UsageError

    folder = _workspace().parent / "other"
    ensure_workspace(folder)
    (folder / MARKER).write_text(json.dumps({"galaxy_data": "0.0.1"}))
    try:
        ensure_workspace(folder)
    except UsageError as error:
        assert "was copied from galaxy-data 0.0.1" in str(error)
    else:
        raise AssertionError("a workspace from galaxy-data 0.0.1 was accepted")


@check
def create_prints_the_path_and_the_next_steps():
    from runbooks.tasks.create import CreatedRevision

    path = _workspace() / "alembic" / "versions_gxy" / "0123456789ab_x.py"
    created = CreatedRevision(path, "0123456789ab", "fac9c76612f9", "x", _env(), True)
    summary = created.summary()
    assert summary.startswith(f"Created {path}") and "Next steps:" in summary
    assert "lib/galaxy/model/migrations/alembic/versions_gxy/" in summary and "mapping" in summary
    in_checkout = CreatedRevision(path, "0123456789ab", "fac9c76612f9", "x", _env(), False).next_steps()
    assert in_checkout[-1] == "Run it on your dev database: sh manage_db.sh upgrade"


# -- lint -------------------------------------------------------------------------------------------


@check
def lint_reads_the_file_and_never_imports_it():
    from runbooks.lint.command import exit_code, lint_paths

    path = _revision_file(
        _workspace().parent, _graph().heads("gxy")[0], "import no_such_module_anywhere  # fails if imported"
    )
    results = lint_paths([path], _graph())
    findings = results[path]
    assert findings and all(f.rule and f.fix and isinstance(f.line, int) for f in findings)
    assert exit_code(results) == (1 if any(f.severity == "error" for f in findings) else 0)
    assert exit_code({path: [f for f in findings if f.severity != "error"]}) == 0


@check
def lint_in_a_workspace_uses_its_graph_and_flags_a_second_head(rule):
    from runbooks.code.revisions import RevisionGraph
    from runbooks.lint.command import lint_paths
    from runbooks.tasks.create import env_for_paths

    versions = _workspace() / "alembic" / "versions_gxy"
    head = _graph().heads("gxy")[0]
    parent = _graph().revisions[head].parents[0]
    path = _revision_file(_workspace().parent, parent)
    probe = versions / path.name
    probe.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    try:
        env = env_for_paths([probe])
        assert env.migrations_dir.resolve() == _workspace().resolve()
        rules = {f.rule for f in lint_paths([probe], RevisionGraph.load(env))[probe]}
    finally:
        probe.unlink()
    assert rule in rules, rules


@check
def lint_rehearses_on_postgresql_and_runs_squawk(variable=None, rules=()):
    from runbooks.lint.squawk import GALAXY_RULES
    from runbooks.settings import PG_SERVER_ENV
    from runbooks.tasks import create, revision_proof

    source = inspect.getsource(create.lint_revisions)
    assert "pg_server(explicit=pg)" in source and "rehearse_sql(path, env, server)" in source
    assert "squawk_findings(statements)" in source and "os.environ.get(PG_SERVER_ENV)" in inspect.getsource(
        revision_proof.pg_server
    )
    assert "with scratch_database(server) as scratch:" in inspect.getsource(revision_proof.rehearse_sql)
    assert variable is None or PG_SERVER_ENV == variable
    assert {"require-lock-timeout", "require-concurrent-index-creation", "constraint-missing-not-valid"} <= set(
        GALAXY_RULES
    )
    assert set(rules) <= set(GALAXY_RULES)


# -- the proof and the model comparison -------------------------------------------------------------


@check
def proof_round_trip_on_scratch_databases_made_by_galaxy():
    from runbooks.tasks import revision_proof

    trip = inspect.getsource(revision_proof.round_trip)
    assert 'scratch_database(server if dialect == "postgresql" else None)' in trip
    assert "start_at(db, env, graph, parent)" in trip
    assert "galaxy_commands.initialize(db, env=env)" in inspect.getsource(revision_proof.start_at)
    proof = inspect.getsource(revision_proof.prove_revision)
    assert '(["postgresql"] if postgresql and server is not None else [])' in proof
    assert "trip.drift = model_drift(db, env)" in trip  # the last step: the comparison with the model


@check
def model_comparison_uses_both_models_and_sets_noise_aside(wording="column in the database, not in the model"):
    from runbooks.galaxy import drift_report

    source = inspect.getsource(drift_report)
    assert "galaxy.model" in source and "tool_shed_install" in source and "compare_metadata" in source
    assert "def by_table(self)" in source and "ignored: list[tuple[Difference, str]]" in source
    assert drift_report.noise_reason.__doc__.startswith("Why a difference is reflection noise")
    assert drift_report.KIND_TEXT["remove_column"] == wording


@check
def create_runbook_proves_on_a_real_table_and_cleans_up(table="stored_workflow"):
    text = _notebook("create")
    from galaxy.model import mapper_registry

    assert f'table = "{table}"' in text and table in mapper_registry.metadata.tables
    for call in ("prove_revision(", "remove_revision("):
        assert call in text, call


@check
def lint_rules_page_counts_galaxys_revisions():
    from docs_build.generated import reference

    source = inspect.getsource(reference.lint_rules_page)
    assert "calibrate(" in source and "render_calibration_markdown(report)" in source
    assert 'versions_dir("gxy")' in source or "versions_gxy" in source


# -- the first-migration tutorial -------------------------------------------------------------------


@check
def tutorial_runbook_does_each_step(release="26.0"):
    from runbooks.cli.notebook_run import available_tasks

    text = _notebook("first-migration")
    assert "first-migration" in available_tasks() and f'old_release = "{release}"' in text
    for call in (
        'for branch in ("gxy", "tsi")',
        "history_lines(graph, (), limit=8)",
        "head.path.read_text().splitlines()[:16]",
        "graph.release_tags.items()",
        "get_status(practice, graph)",
        'migrate.make_plan(graph, migrate.read_rows(practice), "head", "upgrade")',
        "migrate.apply(practice, plan)",
        "create_revision(message, workspace)",
        "ensure_workspace(",
        "lint_paths([mine.path]",
        "prove_revision(mine, workspace",
        "remove_revision(mine)",
    ):
        assert call in text, call


@check
def history_lines_are_galaxys_newest_entries():
    from docs_build.checks.experiments import experiment
    from runbooks.tasks.status import history_lines

    galaxy = [line.replace(" (current)", "") for line in experiment("status-order")["galaxy"]["history"]]
    ours = history_lines(_graph(), (), limit=8)
    assert ours == galaxy[: len(ours)] and len(ours) == 8


@check
def release_label_of_the_head_is_the_tag_plus_revisions(label):
    graph = _graph()
    assert graph.release_label(graph.heads()) == label


@check
def practice_upgrade_is_manage_db_upgrade_read_back(release="26.0"):
    from runbooks.tasks import migrate

    graph = _graph()
    plan = migrate.make_plan(graph, (graph.release_tags[release], *graph.heads("tsi")), "head", "upgrade")
    assert [call.shell() for call in plan.calls] == ["manage_db.sh upgrade"], [c.shell() for c in plan.calls]
    assert "return _outcome(" in inspect.getsource(migrate.apply)
    outcome = inspect.getsource(migrate._outcome)
    assert "rows = read_rows(db)" in outcome and "reached = set(rows) == plan.expected" in outcome


@check
def tutorial_revision_adds_a_nullable_column():
    from runbooks.tasks.create import add_column_body

    body = add_column_body("page", "my_first_column", "sa.String(255)", index=False)
    assert "nullable=True" in body.upgrade and "drop_column" in body.downgrade


@check
def practice_databases_are_made_by_galaxy_and_only_read_the_named_one(variables=()):
    from runbooks.database.scratch import scratch_database
    from runbooks.settings import DB_URL_ENV, PG_SERVER_ENV
    from runbooks.tasks import revision_proof, samples

    assert "galaxy_commands.initialize(db, env)" in inspect.getsource(samples)
    text = _notebook("first-migration")
    assert f'os.environ["{DB_URL_ENV}"]' in text and "pg_server(user_db)" in text
    assert "scratch_database(server)" in text and "make_sample(practice" in text
    assert "os.environ.get(PG_SERVER_ENV)" in inspect.getsource(revision_proof.pg_server)
    assert set(variables) <= {DB_URL_ENV, PG_SERVER_ENV}
    with scratch_database(None) as scratch:
        place = scratch.db.sqlite_path
        assert scratch.db.is_sqlite and Path(tempfile.gettempdir()) in place.parents
    assert not place.parent.exists() or not place.exists()  # dropped when the block ends


@check
def requirements_give_galaxy_data_and_the_runbooks():
    from importlib import metadata

    lines = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"galaxy-data=={metadata.version('galaxy-data')}" in lines and "-e ." in lines
    assert "galaxy-migration-runbooks" in metadata.packages_distributions()["runbooks"]  # `-e .`: this project


@check
def create_page_explains_each_step():
    text = (PROJECT_ROOT / "docs" / "tasks" / "create.md").read_text(encoding="utf-8")
    for heading in ("## 1. Make the file", "## 2. Fill it in", "## 3. Lint it", "## 4. Prove it both ways"):
        assert heading in text, heading
    assert "## 5. Compare with the model" in text
