"""Galaxy's migration-test states, remade: the site's table says what running says.

Every state of ``runbooks.testing.galaxy_states`` is made again (SQLite) and judged by status,
troubleshoot and Galaxy's own verdict; the rows must equal ``bench/results/galaxy_states.json``,
which the page renders. A disagreement with Galaxy needs its reason on the page (``WHY``).
"""

from __future__ import annotations

import pytest

from docs_build.generated.galaxy_states import RESULTS, WHY, key, load, states_table
from runbooks.paths import PROJECT_ROOT
from runbooks.testing.galaxy_states import STATES, replay_states


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("galaxy-states")


@pytest.fixture(scope="module")
def replayed(folder, graph, env):
    return [row.to_json() for row in replay_states(folder, graph, env)]


def test_the_committed_table_is_what_running_says(replayed):
    committed = load(RESULTS)
    assert committed is not None, "run `python -m bench.galaxy_states`"
    assert replayed == committed["rows"], "states changed: run `python -m bench.galaxy_states` and read the diff"
    assert {row["state"] for row in replayed} == set(STATES)


def test_every_disagreement_with_galaxy_is_explained_and_no_other(replayed):
    disagreements = {key(row) for row in replayed if not row["agrees"]}
    assert disagreements == set(WHY)
    assert "unexplained" not in states_table()


def test_galaxys_ok_on_a_galaxy_database_alone_came_after_it_made_the_install_model_there(replayed, folder, env):
    """Row 8 (the page's reason): Galaxy's check created the tsi tables and stamped tsi in the copy it judged."""
    from runbooks.code.install_model import install_tables
    from runbooks.database.connections import inspect_database
    from runbooks.database.urls import DatabaseUrl

    judged = inspect_database(DatabaseUrl.parse(f"sqlite:///{folder / 'combined-8.sqlite'}"))
    assert install_tables(env) <= judged.tables and "d4a650f47a3c" in judged.alembic_rows


def test_the_page_shows_the_table():
    page = (PROJECT_ROOT / "docs" / "explanation" / "database-states.md").read_text()
    assert "<!-- generated: galaxy-states -->" in page
    from docs_build.site_build.hooks import generated_snippets

    assert "galaxy-states" in generated_snippets()
