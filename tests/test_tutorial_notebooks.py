"""The create runbook and the onboarding tutorial, executed with papermill on SQLite and PostgreSQL.

On SQLite (the sample) the tests read the docs build's execution (docs_build/site_build/execution.py,
cached by content), so neither notebook runs twice in a test session.
"""

from __future__ import annotations

import time

from runbooks.cli.notebook_run import run_notebook
from runbooks.code.environment import GalaxyEnv

from docs_site import executed, reads_the_site_build
from test_notebooks import outputs
from test_postgresql import PASSWORD, with_password


def execute(task, tmp_path, db=None):
    """Run ``task`` (on ``db``; without one, the sample run the docs build shares); Galaxy's files untouched."""
    versions = sorted(p.name for p in GalaxyEnv.from_package().versions_dir("gxy").glob("*.py"))
    started = time.monotonic()
    if db is None:
        out = executed(task).notebook
    else:
        out = run_notebook(task, output=tmp_path / f"{task}.ipynb", home=tmp_path / "home", db=db)
    elapsed = time.monotonic() - started
    assert sorted(p.name for p in GalaxyEnv.from_package().versions_dir("gxy").glob("*.py")) == versions
    return out, outputs(out), elapsed


def assert_create_ran(text):
    assert "Created " in text and "revises fac9c76612f9" in text
    assert "1 file(s) checked: 0 error(s), 0 warning(s)" in text
    assert "sqlite: PROVED" in text
    assert "column in the database, not in the model: run_count" in text
    assert "index in the database, not in the model: ix_stored_workflow_run_count" in text
    assert "lib/galaxy/model/__init__.py" in text
    assert "Removed the workspace" in text


@reads_the_site_build
def test_create_runbook_on_sqlite(tmp_path):
    out, text, elapsed = execute("create", tmp_path)
    assert_create_ran(text)
    assert "Scratch databases: SQLite only" in text
    print(f"create runbook (SQLite): {elapsed:.0f}s")


def test_create_runbook_on_postgresql(tmp_path, pg_admin):
    db = pg_admin.with_database("postgres")
    out, text, elapsed = execute("create", tmp_path, db=type(db).parse(with_password(db)))
    assert_create_ran(text)
    assert "postgresql: PROVED" in text
    assert "ALTER TABLE stored_workflow ADD COLUMN run_count INTEGER" in text
    assert "require-concurrent-index-creation" in text
    assert PASSWORD not in out.read_text()
    print(f"create runbook (PostgreSQL): {elapsed:.0f}s")


def assert_tutorial_ran(text):
    assert "revisions in versions_gxy/" in text and "revisions in versions_tsi/" in text
    assert "release 26.0" in text and "Reached the target: True" in text
    assert "Now: up-to-date" in text
    assert "PROVED" in text and "column in the database, not in the model: my_first_column" in text
    assert "Removed the workspace, your revision and the practice database" in text


@reads_the_site_build
def test_tutorial_on_sqlite(tmp_path):
    out, text, elapsed = execute("first-migration", tmp_path)
    assert_tutorial_ran(text)
    assert "Practice database (sqlite)" in text
    print(f"first-migration (SQLite): {elapsed:.0f}s")


def test_tutorial_on_postgresql(tmp_path, pg_admin):
    db = pg_admin.with_database("postgres")
    out, text, elapsed = execute("first-migration", tmp_path, db=type(db).parse(with_password(db)))
    assert_tutorial_ran(text)
    assert "Practice database (postgresql)" in text and "postgresql: PROVED" in text
    assert PASSWORD not in out.read_text()
    print(f"first-migration (PostgreSQL): {elapsed:.0f}s")
