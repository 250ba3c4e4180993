"""Galaxy's migration-test states, made for real and judged three ways: bench/results/galaxy_states*.json.

The site's states table (docs/explanation/database-states.md) is rendered from those files by
``docs_build.generated.galaxy_states``; ``tests/test_galaxy_states.py`` makes every state again and
fails when a file no longer says what running says.

Usage: python -m bench.galaxy_states [--postgresql URL]
  SQLite always (about a minute); with --postgresql (a server URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres)
  the same states as databases on that server too (named runbooks_test_states_PID_*, dropped at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.testing.galaxy_states import Place, replay_states

RESULTS = Path(__file__).resolve().parent / "results"
FILES = {"sqlite": RESULTS / "galaxy_states.json", "postgresql": RESULTS / "galaxy_states_postgresql.json"}


def measure(server: DatabaseUrl | None = None) -> dict:
    env = GalaxyEnv.from_package()
    graph = RevisionGraph.load(env)
    with tempfile.TemporaryDirectory(prefix="galaxy-states-") as folder:
        place = Place(Path(folder), server, prefix=f"runbooks_test_states_{os.getpid()}_")
        try:
            rows = replay_states(place, graph, env)
        finally:
            place.drop_all()
    return {
        "galaxy_data": metadata.version("galaxy-data"),
        "dialect": place.dialect,
        "rows": [r.to_json() for r in rows],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", metavar="URL", help="a PostgreSQL server to make the states on as well")
    args = parser.parse_args()
    servers = [None] + ([DatabaseUrl.parse(args.postgresql)] if args.postgresql else [])
    for server in servers:
        found = measure(server)
        FILES[found["dialect"]].write_text(json.dumps(found, indent=2) + "\n")
        print(f"wrote {FILES[found['dialect']]}")


if __name__ == "__main__":
    main()
