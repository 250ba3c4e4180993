"""The guide's table of Galaxy releases in checkout mode, from the results file the checkout tests keep.

``tests/test_checkouts.py`` runs each command with ``--galaxy-root`` on a checkout-shaped tree of each
release and compares what happened with ``checkout-support.json``: a cell that disagrees with the run
fails the test (``RUNBOOK_WRITE_SUPPORT=1`` writes what ran instead). This module only reads and renders.
"""

from __future__ import annotations

import json
from pathlib import Path

from runbooks.paths import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "tests" / "fixtures" / "releases" / "checkout-support.json"
COMMANDS = ("status", "upgrade --rehearse", "troubleshoot", "create", "run status")


def load(path: Path = RESULTS) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"releases": {}}


def _release_key(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.split("."))


def supported_releases_table(path: Path = RESULTS) -> str:
    releases = load(path)["releases"]
    lines = [
        "| release | galaxy-data | Python | tags in | " + " | ".join(f"`{c}`" for c in COMMANDS) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in COMMANDS) + " |",
    ]
    notes = []
    for tag in sorted(releases, key=_release_key):
        entry = releases[tag]
        cells = [entry.get("commands", {}).get(command, "not run") for command in COMMANDS]
        where = f"`{Path(entry['tags_file']).name}`" if entry.get("tags_file") else "none"
        row = [tag, entry.get("galaxy_data", "?"), entry.get("python", "?"), where, *cells]
        lines.append("| " + " | ".join(row) + " |")
        if entry.get("why"):
            notes.append(f"- {tag}: {entry['why']}")
    folders = {str(Path(e["tags_file"]).parent) for e in releases.values() if e.get("tags_file")}
    if len(folders) == 1:
        notes.insert(0, f"- tags in: the file in `{folders.pop()}/` that maps release tags to revisions")
    return "\n".join(lines + ([""] + notes if notes else []))
