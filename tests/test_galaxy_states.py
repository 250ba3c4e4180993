"""Galaxy's migration-test states, remade: the site's table says what running says.

Every state of ``runbooks.testing.galaxy_states`` is made again, on SQLite and on PostgreSQL, and
judged by status, troubleshoot and Galaxy's own verdict; the rows must equal
``bench/results/galaxy_states.json`` and ``galaxy_states_postgresql.json``, which the page renders.
A disagreement with Galaxy needs its reason on the page (``WHY``). PostgreSQL's states are made once
for this module, as databases named ``runbooks_test_states_PID_*``, and dropped at its end.
"""

from __future__ import annotations

import os

import pytest

from docs_build.generated.galaxy_states import RESULTS, RESULTS_POSTGRESQL, WHY, key, load, states_table
from runbooks.paths import PROJECT_ROOT
from runbooks.testing.galaxy_states import STATES, Place, replay_states


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("galaxy-states")


@pytest.fixture(scope="module")
def replayed(folder, graph, env):
    return [row.to_json() for row in replay_states(folder, graph, env)]


@pytest.fixture(scope="module")
def pg_place(pg_admin, tmp_path_factory):
    place = Place(tmp_path_factory.mktemp("galaxy-states-pg"), pg_admin, prefix=f"runbooks_test_states_{os.getpid()}_")
    yield place
    place.drop_all()


@pytest.fixture(scope="module")
def pg_replayed(pg_place, graph, env):
    return [row.to_json() for row in replay_states(pg_place, graph, env)]


def _same_as_committed(replayed: list[dict], path) -> None:
    committed = load(path)
    assert committed is not None, "run `python -m bench.galaxy_states --postgresql URL`"
    assert replayed == committed["rows"], "states changed: run `python -m bench.galaxy_states` and read the diff"
    assert {row["state"] for row in replayed} == set(STATES)


def _disagreements_explained(replayed: list[dict]) -> None:
    disagreements = {key(row) for row in replayed if not row["agrees"]}
    assert disagreements == set(WHY)
    assert "unexplained" not in states_table()


def test_the_committed_table_is_what_running_says(replayed):
    _same_as_committed(replayed, RESULTS)


def test_every_disagreement_with_galaxy_is_explained_and_no_other(replayed):
    _disagreements_explained(replayed)


def test_the_committed_postgresql_table_is_what_running_says(pg_replayed):
    _same_as_committed(pg_replayed, RESULTS_POSTGRESQL)
    _disagreements_explained(pg_replayed)


def test_galaxys_ok_on_a_galaxy_database_alone_came_after_it_made_the_install_model_there(replayed, folder, env):
    """Row 8 (the page's reason): Galaxy's check created the tsi tables and stamped tsi in the copy it judged."""
    from runbooks.code.install_model import install_tables
    from runbooks.database.connections import inspect_database
    from runbooks.database.urls import DatabaseUrl

    judged = inspect_database(DatabaseUrl.parse(f"sqlite:///{folder / 'combined-8.sqlite'}"))
    assert install_tables(env) <= judged.tables and "d4a650f47a3c" in judged.alembic_rows


def test_the_same_on_postgresql_and_every_state_database_is_dropped(pg_replayed, pg_place, env):
    from runbooks.code.install_model import install_tables
    from runbooks.database.connections import inspect_database

    judged = inspect_database(pg_place.url("combined-8"))
    assert install_tables(env) <= judged.tables and "d4a650f47a3c" in judged.alembic_rows
    made = list(pg_place.made)
    pg_place.drop_all()
    assert not any(inspect_database(db).exists for db in made)


def test_the_page_shows_the_table():
    page = (PROJECT_ROOT / "docs" / "explanation" / "database-states.md").read_text()
    assert "<!-- generated: galaxy-states -->" in page
    from docs_build.site_build.hooks import generated_snippets

    assert "galaxy-states" in generated_snippets()
    assert "### SQLite" in states_table() and "### PostgreSQL" in states_table()
