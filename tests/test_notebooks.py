"""Runbooks executed for real with papermill, as `python -m runbooks run` does."""

from __future__ import annotations

import json

import pytest

from runbooks.settings import HOME_ENV
from runbooks.tasks.samples import make_sample

from conftest import PROJECT, run_cli
from docs_site import executed, reads_the_site_build
from test_postgresql import PASSWORD, with_password


def outputs(path) -> str:
    notebook = json.loads(path.read_text())
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            texts.append(json.dumps(output.get("data", {})))
    return "\n".join(texts)


def run_status(tmp_path, db_url=None, code=0):
    """``run status``; its exit code is the runbook's outcome: 0 up to date, 1 any other state."""
    out = tmp_path / "status-run.ipynb"
    args = ["run", "status", "-o", str(out)] + (["--db", db_url] if db_url else [])
    result = run_cli(*args, env={HOME_ENV: str(tmp_path / "home")})
    assert result.returncode == code, result.stderr
    return out, result


def test_status_notebook_on_the_sample(tmp_path):
    out, result = run_status(tmp_path)
    text = outputs(out)
    assert "State: up-to-date" in text
    assert "(head) (current)" in text  # the history marker
    assert (tmp_path / "home" / "sample.sqlite").exists()  # made on first use, in RUNBOOK_HOME
    assert "Creating the sample database" in result.stderr + text
    # run ends with the runbook's own outcome, and no kernel chatter
    last = result.stdout.splitlines()[-1]
    assert last.startswith("Nothing was changed (status only reads). The database is up-to-date")
    assert "WARNING" not in result.stderr and "without encryption" not in result.stderr


@reads_the_site_build
def test_every_runbook_ends_with_its_outcome_on_the_sample():
    from docs_build.site_build.execution import available_tasks
    from runbooks.cli.runbook_outcome import read_outcome

    for task in available_tasks():
        code, text = read_outcome(executed(task).notebook)
        assert code == 0 and text, (task, text)
    assert "Applied: upgrade to head" in read_outcome(executed("upgrade").notebook)[1]
    assert "restored from the backup" in read_outcome(executed("downgrade").notebook)[1]


def test_status_notebook_on_sqlite_behind(tmp_path, sqlite_db):
    db = sqlite_db("25.0")
    out, result = run_status(tmp_path, db.secret(), code=1)
    text = outputs(out)
    assert result.stdout.splitlines()[-1].startswith("Nothing was changed (status only reads). The database is behind")
    assert "State: behind" in text and "release 25.0" in text
    assert "fb16d09348db  Add requested_transform column" in text


def test_status_notebook_on_postgresql_never_saves_the_password(tmp_path, pg_database, graph):
    db = pg_database()
    make_sample(db, "26.0", graph)
    out, result = run_status(tmp_path, with_password(db), code=1)
    saved = out.read_text()
    assert PASSWORD not in saved and PASSWORD not in result.stdout + result.stderr
    assert "State: behind" in outputs(out) and "release 26.0" in outputs(out)
    assert "postgresql://postgres:***@" in saved


@pytest.mark.parametrize("path", sorted((PROJECT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_committed_notebooks_have_no_outputs_and_a_parameters_cell(path):
    notebook = json.loads(path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in code)
    assert any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in code)
    assert notebook["cells"][0]["cell_type"] == "markdown"
