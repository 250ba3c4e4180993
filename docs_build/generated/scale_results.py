"""The committed scale measurements (bench/results/scale_*.json), smallest scale first."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
ORDER = ["tiny", "small", "medium", "heldout", "large"]


def scale_runs() -> list[dict]:
    runs = [json.loads(path.read_text()) for path in RESULTS.glob("scale_*.json")]
    return sorted(runs, key=lambda run: ORDER.index(run["scale"]) if run["scale"] in ORDER else 99)
