"""Galaxy's migration-test states, remade: the site's table says what running says.

Every state of ``runbooks.testing.galaxy_states`` is made again, on SQLite and on PostgreSQL, and
judged by status, troubleshoot and Galaxy's own verdict; the rows must equal
``bench/results/galaxy_states.json`` and ``galaxy_states_postgresql.json``, which the page renders.
A disagreement with Galaxy needs its reason on the page (``WHY``). One test per dialect, so that
pytest-xdist never makes the states twice (a module fixture runs once in every worker that uses it);
PostgreSQL's are databases named ``runbooks_test_states_PID_*``, dropped at the test's end.
"""

from __future__ import annotations

import os

from docs_build.generated.galaxy_states import RESULTS, RESULTS_POSTGRESQL, WHY, key, load, states_table
from runbooks.paths import PROJECT_ROOT
from runbooks.testing.galaxy_states import STATES, Place, replay_states


def _same_as_committed(replayed: list[dict], path) -> None:
    committed = load(path)
    assert committed is not None, "run `python -m bench.galaxy_states --postgresql URL`"
    assert replayed == committed["rows"], "states changed: run `python -m bench.galaxy_states` and read the diff"
    assert {row["state"] for row in replayed} == set(STATES)


def _disagreements_explained(replayed: list[dict]) -> None:
    disagreements = {key(row) for row in replayed if not row["agrees"]}
    assert disagreements == set(WHY)
    assert "unexplained" not in states_table()


def _galaxy_made_the_install_model_in_the_database_it_judged(db, env) -> None:
    """Row 8 (the page's reason): Galaxy's check created the tsi tables and stamped tsi in the copy it judged."""
    from runbooks.code.install_model import install_tables
    from runbooks.database.connections import inspect_database

    judged = inspect_database(db)
    assert install_tables(env) <= judged.tables and "d4a650f47a3c" in judged.alembic_rows


def test_sqlite_states_are_the_committed_table_and_only_explained_rows_disagree(tmp_path, graph, env):
    replayed = [row.to_json() for row in replay_states(tmp_path, graph, env)]
    _same_as_committed(replayed, RESULTS)
    _disagreements_explained(replayed)
    _galaxy_made_the_install_model_in_the_database_it_judged(Place(tmp_path).url("combined-8"), env)


def test_postgresql_states_are_the_committed_table_and_every_database_is_dropped(pg_admin, tmp_path, graph, env):
    from runbooks.database.connections import inspect_database

    place = Place(tmp_path, pg_admin, prefix=f"runbooks_test_states_{os.getpid()}_")
    try:
        replayed = [row.to_json() for row in replay_states(place, graph, env)]
        _same_as_committed(replayed, RESULTS_POSTGRESQL)
        _disagreements_explained(replayed)
        _galaxy_made_the_install_model_in_the_database_it_judged(place.url("combined-8"), env)
    finally:
        made = list(place.made)
        place.drop_all()
    assert made and not any(inspect_database(db).exists for db in made)


def test_the_page_shows_the_table():
    page = (PROJECT_ROOT / "docs" / "explanation" / "database-states.md").read_text()
    assert "<!-- generated: galaxy-states -->" in page
    from docs_build.site_build.hooks import generated_snippets

    assert "galaxy-states" in generated_snippets()
    assert "### SQLite" in states_table() and "### PostgreSQL" in states_table()
