"""Galaxy's migration-test states, made for real and judged three ways: bench/results/galaxy_states.json.

The site's states table (docs/explanation/database-states.md) is rendered from that file by
``docs_build.generated.galaxy_states``; ``tests/test_galaxy_states.py`` makes every state again and
fails when the file no longer says what running says.

Usage: python -m bench.galaxy_states   (SQLite; about a minute)
"""

from __future__ import annotations

import json
import tempfile
from importlib import metadata
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.testing.galaxy_states import replay_states

RESULTS = Path(__file__).resolve().parent / "results" / "galaxy_states.json"


def measure() -> dict:
    env = GalaxyEnv.from_package()
    graph = RevisionGraph.load(env)
    with tempfile.TemporaryDirectory(prefix="galaxy-states-") as folder:
        rows = replay_states(Path(folder), graph, env)
    return {"galaxy_data": metadata.version("galaxy-data"), "dialect": "sqlite", "rows": [r.to_json() for r in rows]}


def main() -> None:
    RESULTS.write_text(json.dumps(measure(), indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
