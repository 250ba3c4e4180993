"""``<!-- generated: mutant-table -->``: the mutation check of the key promises (bench/results/mutants.json).

``bench/mutants.py`` breaks each promise in a clean copy of the project and runs the tests named
for it; the table shows what it last found, from the committed results, never typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

from runbooks.paths import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results" / "mutants.json"


def mutant_results(path: Path = RESULTS) -> dict:
    return json.loads(path.read_text())


def _tests(item: dict) -> str:
    names = ", ".join(f"`{test.removeprefix('tests/')}`" for test in item["tests"])
    return names + (f" (`-k {item['select']}`)" if item.get("select") else "")


def mutant_table(path: Path = RESULTS) -> str:
    results = mutant_results(path)
    mutants = results["mutants"]
    killed = sum(item["status"].startswith("killed") for item in mutants)
    lines = [
        f"{killed} of {len(mutants)} mutants killed (run at commit "
        f"{', '.join(f'`{c}`' for c in sorted({m.get('commit', results['commit']) for m in mutants}))}).",
        "",
        "| mutant | the promise it breaks | status | seconds |",
        "| --- | --- | --- | ---: |",
    ]
    runs = ["", "The file each mutant breaks, and the tests run against it:", ""]
    for item in mutants:
        cells = [f"`{item['name']}`", item["promise"], item["status"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + f" | {item['seconds']:.0f} |")
        runs.append(f"- `{item['name']}`: `{item['file']}`; {_tests(item)}")
    lines += runs
    return "\n".join(lines)
