"""The upgrade and downgrade runbooks executed for real (papermill), on SQLite and PostgreSQL.

On the sample, the test reads the docs build's execution (docs_build/site_build/execution.py, cached by
content): the same run the site shows, executed once for both.
"""

from __future__ import annotations

from runbooks.cli.notebook_run import run_notebook
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.samples import make_sample

from docs_site import executed, reads_the_site_build
from test_notebooks import outputs
from test_postgresql import PASSWORD


@reads_the_site_build
def test_upgrade_runbook_on_the_sample():
    text = outputs(executed("upgrade").notebook)
    assert "Rehearsal passed" in text
    assert "Done: alembic_version read back = " in text and "NOT DONE" not in text
    assert "State:       up-to-date" in text.split("Done:")[-1]


@reads_the_site_build
def test_downgrade_runbook_on_the_sample_restores_it():
    text = outputs(executed("downgrade").notebook)
    assert "Done: alembic_version read back = 63dc6cca023f, d4a650f47a3c" in text or (
        "Done: alembic_version read back = d4a650f47a3c, 63dc6cca023f" in text
    )
    assert "Restored from the backup: up-to-date" in text


def test_upgrade_runbook_on_postgresql_only_rehearses_without_confirm(tmp_path, pg_database, graph):
    db = pg_database()
    make_sample(db, "26.0", graph)
    secret_db = type(db)(db.url.set(password=PASSWORD))
    out = run_notebook("upgrade", output=tmp_path / "upgrade.ipynb", home=tmp_path / "home", db=secret_db)
    text = outputs(out)
    assert "Rehearsal passed on a PostgreSQL copy" in text
    assert "set confirm=True to apply" in text
    assert set(read_rows(db)) == {"9930b68c85af", "d4a650f47a3c"}
    assert PASSWORD not in out.read_text()


def test_downgrade_runbook_on_postgresql_with_confirm(tmp_path, pg_database, graph):
    db = pg_database()
    make_sample(db, None, graph)
    out = run_notebook(
        "downgrade", {"confirm": True, "target": "26.0"}, output=tmp_path / "d.ipynb", home=tmp_path / "h", db=db
    )
    assert "Done: alembic_version read back" in outputs(out)
    assert set(read_rows(db)) == {"9930b68c85af", "d4a650f47a3c"}
