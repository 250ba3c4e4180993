"""``<!-- generated: galaxy-states -->``: Galaxy's migration-test states, each made and judged three ways.

Rendered from ``bench/results/galaxy_states.json`` (SQLite) and ``galaxy_states_postgresql.json``
(``python -m bench.galaxy_states --postgresql URL`` writes them; ``tests/test_galaxy_states.py`` makes
every state again on both and fails when a file says otherwise).
A row where this tool's verdict and Galaxy's differ (one says healthy, the other not) must have
its reason in ``WHY``; the test fails on a disagreement without one, and on a reason without one.
"""

from __future__ import annotations

import json
from pathlib import Path

from runbooks.paths import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results" / "galaxy_states.json"
RESULTS_POSTGRESQL = RESULTS.with_name("galaxy_states_postgresql.json")
DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
STATE_NAMES = {
    1: "tables, no version table",
    2: "SQLAlchemy Migrate below its last version",
    3: "Migrate at its last version (180 gxy, 17 tsi), no Alembic",
    4: "Migrate at last + Alembic at the branch's base",
    5: "Alembic mid-way",
    6: "Alembic at head",
    7: "empty",
    8: "gxy at head, tsi never initialized",
}
WHY = {
    "combined 8": (
        "Galaxy's OK comes after it wrote: its startup check finds no tsi row and no tool shed install "
        "tables, takes the database for a new install, creates the install model's tables in it and stamps "
        "tsi. A galaxy database whose separate install database was forgotten (install_database_connection "
        "dropped from galaxy.yml) so starts with an empty tool shed install model, while the installed tools' "
        "records sit in the other database. status and troubleshoot say so before anything is written."
    ),
}


def load(path: Path = RESULTS) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def key(row: dict) -> str:
    return f"{row['layout']} {row['state']}"


def states_table(path: Path = RESULTS, postgresql: Path = RESULTS_POSTGRESQL) -> str:
    """A table per dialect: SQLite first, then PostgreSQL (when its file is there)."""
    found = [each for each in (load(path), load(postgresql)) if each is not None]
    if not found:
        return "No states have been replayed yet: run `python -m bench.galaxy_states`."
    intro = (
        "*Layout* says which database is in the state: one combined database, or the galaxy (gxy) or the "
        "install (tsi) database of a separate pair whose other database is at head."
    )
    return "\n\n".join([intro, *map(_dialect_table, found)])


def _dialect_table(found: dict) -> str:
    lines = [
        f"### {DIALECT_NAMES[found['dialect']]}",
        "",
        f"{len(found['rows'])} states, made and judged with galaxy-data {found['galaxy_data']} on "
        f"{DIALECT_NAMES[found['dialect']]}.",
        "",
        "| layout | state | `status` | `troubleshoot` errors | Galaxy's verdict | agree |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    made, why = ["", "How each state was made:", ""], ["", "Where they disagree:", ""]
    for row in found["rows"]:
        name = STATE_NAMES.get(row["state"], "")
        agree = "yes" if row["agrees"] else "no (below)"
        cells = [
            row["layout"],
            f"{row['state']}: {name}",
            f"`{row['status']}`",
            row["troubleshoot"],
            f"`{row['galaxy']}`",
            agree,
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        made.append(f"- {row['layout']}, state {row['state']}: {row['made']}")
        if not row["agrees"]:
            why.append(f"- {row['layout']}, state {row['state']}: {WHY.get(key(row), 'unexplained')}")
    lines += made + (why if len(why) > 3 else [])
    return "\n".join(lines)


SNIPPETS = {"galaxy-states": states_table}
