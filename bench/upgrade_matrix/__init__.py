"""The upgrade matrix: every release's data fixture x {SQLite, PostgreSQL}, upgraded by this project.

One cell = one fixture (tests/fixtures/releases/galaxy-data-X.data.*) loaded into a scratch
database, then:

- ``upgrade``: ``python -m runbooks upgrade --db URL --yes --no-backup --json`` to head, the time of
  each revision as its progress line arrives; a stop is recorded with Galaxy's real error and the
  way out the tool printed, then that way out is applied and the upgrade run again;
- ``data``: every row the fixture's manifest lists is looked up again and its columns compared
  value by value with the loaded fixture; a row or column that changed is named with the revision
  that did it (one the project's revision index finds naming that table and column), else it is
  a finding (``lost``);
- ``schema``: the database against a fresh head database made by Galaxy's own initialization
  (runbooks.tasks.baseline), each difference with its explanation, unexplained ones are findings;
- ``reverse``: downgrade to the release's tag, then that release's own code (its venv) runs its
  startup check and ``dbversion`` on the result.

``python -m bench.upgrade_matrix --help`` runs cells, merges them into
bench/results/upgrade_matrix.json, and the page docs/explanation/upgrade-compatibility.md is
rendered from that file (docs_build/generated/upgrade_matrix.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent
FIXTURES = PROJECT / "tests" / "fixtures"
RELEASES = FIXTURES / "releases"
MANIFEST = RELEASES / "data-manifest.json"
RESULTS = PROJECT / "bench" / "results" / "upgrade_matrix.json"
DIALECTS = ("sqlite", "postgresql")

sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(FIXTURES))  # make_release_data: the manifest's digests, computed the same way
