"""The from-migrate runbook run for real on a database Galaxy 21.09 made (SQLAlchemy Migrate 179): the
path shown and nothing changed without ``confirm``; with it, release 22.01's own ``manage_db.sh upgrade``
(galaxy-data 22.1.1 in its Python 3.9 virtualenv, as tests/fixtures assembles it) then this code's
upgrade, both read back; and the site build's run on the practice database."""

from __future__ import annotations

import sys

import pytest

from runbooks.cli.runbook_outcome import read_outcome
from runbooks.galaxy.commands import verdict
from runbooks.settings import HOME_ENV
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.status import get_status

from conftest import PROJECT, postgresql_from_release, run_cli
from docs_site import executed, reads_the_site_build
from test_notebooks import outputs

sys.path.insert(0, str(PROJECT / "tests" / "fixtures"))

FIXTURE = "21.9.0.migrate"  # galaxy-data-21.9.0.migrate.postgresql.sql.gz: Galaxy 21.09's own first start


@pytest.fixture(scope="session")
def release_2201(tmp_path_factory):
    from legacy_galaxy import release_2201_tree

    return release_2201_tree(tmp_path_factory.mktemp("galaxy-22.01") / "galaxy")


def _run(tmp_path, db, *parameters: str):
    out = tmp_path / f"from-migrate-{len(parameters)}.ipynb"
    args = ["run", "from-migrate", "-o", str(out), "--db", db.secret()]
    for pair in zip(parameters[::2], parameters[1::2], strict=True):
        args += ["-p", *pair]
    result = run_cli(*args, env={HOME_ENV: str(tmp_path / "home")})
    return result, out


@pytest.mark.slow_release
def test_from_migrate_runbook_on_a_2109_database(release_2201, pg_database, graph, tmp_path):
    db = postgresql_from_release(FIXTURE, pg_database())
    # Without confirm: where it stands and the path, nothing changed.
    shown, out = _run(tmp_path, db, "release_2201_root", str(release_2201))
    assert shown.returncode == 1, shown.stderr
    text = outputs(out)
    assert "SQLAlchemy Migrate version 179 (Galaxy 21.09's last version)" in text
    assert "sh manage_db.sh upgrade, Migrate 179 to 180" in text
    assert "Step 1 not run" in read_outcome(out)[1]
    assert get_status(db, graph).legacy_migrate_version == 179 and read_rows(db) == ()
    # With confirm: both steps, each read back.
    done, out = _run(tmp_path, db, "release_2201_root", str(release_2201), "confirm", "true")
    assert done.returncode == 0, done.stdout + done.stderr
    code, said = read_outcome(out)
    assert code == 0 and "migrate_version read back = 180 (was 179)" in said and "Applied: upgrade to head" in said
    assert "179 -> 180" in outputs(out) and "Galaxy's startup check: OK" in outputs(out)
    assert set(read_rows(db)) == set(graph.heads()) and verdict(db) == "OK"


@reads_the_site_build
def test_the_site_runs_it_on_the_practice_database_and_drops_it():
    notebook = executed("from-migrate").notebook
    code, said = read_outcome(notebook)
    assert code == 0 and "migrate_version read back = 180 (was 179)" in said and "up-to-date" in said
    # the practice database is dropped before the outcome: no restore command into it may be printed
    assert "restore" not in said and "practice database is dropped" in said, said
    text = outputs(notebook)
    assert "the practice database: Galaxy 21.09 made it" in text and "State:       legacy-sqlalchemy-migrate" in text
    assert "Galaxy's startup check: OK" in text
