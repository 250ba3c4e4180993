"""The attack table of the guide, read from the adversarial suite (``tests/test_attack_*.py``) with ``ast``.

Each test declares its attack as ``attack(AREA, WHAT, OUTCOME)``; the table lists those
declarations, so it shows exactly what the suite runs, and the test proves each outcome.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from runbooks.paths import PROJECT_ROOT

SUITE = PROJECT_ROOT / "tests"


def declared_attacks(folder: Path = SUITE) -> list[dict]:
    found = []
    for path in sorted(folder.glob("test_attack_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "attack"):
                continue
            values = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            if len(values) == 3:
                area, what, outcome = values
                found.append({"area": area, "what": what, "outcome": outcome, "file": path.name})
    return found


def attack_table(folder: Path = SUITE) -> str:
    attacks = declared_attacks(folder)
    counts = Counter(item["area"] for item in attacks)
    lines = [
        f"{len(attacks)} attacks in {len(counts)} areas "
        f"({', '.join(f'{area}: {n}' for area, n in sorted(counts.items()))}).",
        "",
        "| area | attack | outcome the test proves | test file |",
        "| --- | --- | --- | --- |",
    ]
    for item in sorted(attacks, key=lambda a: (a["area"], a["file"])):
        cells = [item["area"], item["what"], item["outcome"], f"`{item['file']}`"]
        lines.append("| " + " | ".join(" ".join(c.split()).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
