"""The replay table of the guide, read from ``tests/replays/test_*.py`` with ``ast``.

Each replay module declares ``REPORT`` (the Galaxy issue's address), ``GALAXY_SAID`` and
``DOCTOR_CODE`` as string constants, and ``NOTE`` when the replay departs from the report (a
simulated server, say how); its docstring's first line names the report. The test proves the code
and the fix, so the table shows exactly what the suite replays.
"""

from __future__ import annotations

import ast
from pathlib import Path

from runbooks.paths import PROJECT_ROOT

REPLAYS = PROJECT_ROOT / "tests" / "replays"


def declared_replays(folder: Path = REPLAYS) -> list[dict]:
    found = []
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        values = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        if {"REPORT", "GALAXY_SAID", "DOCTOR_CODE"} <= set(values):
            keys = ("REPORT", "GALAXY_SAID", "DOCTOR_CODE")
            found.append({"file": path.name, "note": values.get("NOTE", "")} | {k.lower(): values[k] for k in keys})
    return found


def replay_table(folder: Path = REPLAYS) -> str:
    replays = declared_replays(folder)
    lines = [
        f"{len(replays)} reports replayed.",
        "",
        "| report | what Galaxy said | what the doctor says | test file |",
        "| --- | --- | --- | --- |",
    ]
    for item in replays:
        number = item["report"].rstrip("/").rsplit("/", 1)[-1]
        said = item["galaxy_said"].replace("|", "\\|")
        said += f"<br>*{item['note']}*" if item["note"] else ""
        lines.append(f"| [#{number}]({item['report']}) | {said} | `{item['doctor_code']}` | `{item['file']}` |")
    return "\n".join(lines)
