"""What Galaxy's own upgrade paths leave, as the upgrade matrix measured it (galaxy_leftovers.json).

The catalogue is generated (``python -m bench.upgrade_matrix leftovers``): per dialect, each
difference an older release's database is left with after Galaxy's upgrade to head, with the
releases whose path leaves it. A difference in it is put down to a path only when the database's
history could have produced it: the database shows at least half of the differences that path
leaves (a database created at 25.0 whose ``library_dataset_collection_association.update_time``
was dropped by hand shows 34 of the 80 differences the 23.1 path leaves, and is not excused).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).with_name("galaxy_leftovers.json")
DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Kinds where the database lacks something Galaxy's model maps: Galaxy fails where it reads it.
NEEDED = ("add_table", "add_column")


@dataclass(frozen=True)
class Leftover:
    why: str  # the path(s) that leave it; or why none explains it here
    left: bool  # this database's history could have produced it
    evidence: str  # how many of a path's differences this database shows


def _key(difference: dict) -> tuple:
    return (difference["kind"], difference["table"], difference["name"], difference.get("detail", ""))


@cache
def catalogue(dialect: str) -> tuple[dict[str, int], dict[tuple, list[str]]]:
    """({release: how many differences its path leaves}, {difference key: releases whose path leaves it})."""
    entry = json.loads(CATALOGUE.read_text())["dialects"].get(dialect, {"paths": {}, "differences": []})
    return entry["paths"], {_key(d): d["releases"] for d in entry["differences"]}


def explain_leftovers(differences: list[dict], dialect: str) -> dict[tuple, Leftover]:
    """For each of ``differences`` the catalogue lists: the path(s) that leave it, judged on this database."""
    paths, leaves = catalogue(dialect)
    found = {_key(d) for d in differences}
    shown = {release: 0 for release in paths}
    for key in found & set(leaves):
        for release in leaves[key]:
            shown[release] += 1
    fitting = {release for release, count in shown.items() if 2 * count >= paths[release]}
    where = DIALECT_NAMES.get(dialect, dialect)

    def evidence(release: str) -> str:
        return f"this database shows {shown[release]} of the {paths[release]} differences the {release} path leaves"

    overall = max(fitting, key=lambda r: (shown[r] / paths[r], paths[r]), default=None)
    judged = {}
    for key in found & set(leaves):
        releases = leaves[key]
        possible = [r for r in releases if r in fitting]
        if possible:
            why = f"left by Galaxy's upgrade from {_releases(possible)} on {where}"
            judged[key] = Leftover(why, True, evidence(overall))
        else:
            best = max(releases, key=lambda r: shown[r] / paths[r])
            why = f"Galaxy's upgrade from {_releases(releases)} on {where} leaves it too, but not this database's "
            why += "history"
            judged[key] = Leftover(why, False, evidence(best))
    return judged


def _releases(releases: list[str]) -> str:
    return releases[0] if len(releases) == 1 else f"{', '.join(releases[:-1])} or {releases[-1]}"
