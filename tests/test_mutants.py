"""The committed mutation check: every mutant of bench/mutants.py run, all killed, shown on the Contributing page."""

from __future__ import annotations

import json
import runpy

from docs_build.generated.mutants import RESULTS, mutant_table

from conftest import PROJECT

MUTANTS = runpy.run_path(str(PROJECT / "bench" / "mutants.py"))["MUTANTS"]


def test_every_mutant_was_run_and_killed():
    results = json.loads(RESULTS.read_text())["mutants"]
    assert [item["name"] for item in results] == [mutant.name for mutant in MUTANTS]
    assert len(results) >= 10
    assert [item["name"] for item in results if not item["status"].startswith("killed")] == []
    for item, mutant in zip(results, MUTANTS, strict=True):  # the results are of these mutants, these tests
        assert (item["promise"], item["file"], item["tests"]) == (mutant.promise, mutant.file, list(mutant.tests))


def test_every_mutant_still_applies_to_the_code():
    """A mutant whose text the code no longer has would be reported stale, not run: keep them current."""
    for mutant in MUTANTS:
        text = (PROJECT / mutant.file).read_text()
        assert all(text.count(old) == 1 for old, _ in mutant.edits), mutant.name


def test_the_contributing_page_shows_the_results():
    assert "<!-- generated: mutant-table -->" in (PROJECT / "docs" / "contributing.md").read_text()
    table = mutant_table()
    for item in json.loads(RESULTS.read_text())["mutants"]:
        assert f"| `{item['name']}` | {item['promise']} |" in table and item["status"] in table
