"""Fit the forecast's cost model on some scales, check it on one held out.

    python bench/calibrate.py            # fit on small + medium + heldout, check on large

Writes ``runbooks/forecast_model.json`` and ``bench/results/forecast_check.json``. Per
revision: seconds = fixed + per_gb x GB of the tables it was seen to lock (least squares over
the calibration scales, per_gb >= 0); the overhead is our command's wall time minus the
migrations' own time (Galaxy's import, pre-flight, read-back).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runbooks.forecast import GB, MODEL, forecast  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CALIBRATION, HELD_OUT = ["small", "medium", "heldout"], "large"
STRONG = ("AccessExclusiveLock", "ShareRowExclusiveLock", "ShareLock", "ExclusiveLock")


def _load(scale: str) -> dict:
    return json.loads((RESULTS / f"scale_{scale}.json").read_text())


def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    if len(points) < 2 or max(xs) - min(xs) < 1e-9:
        return statistics.mean(ys), 0.0
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    slope = max(0.0, slope)
    return max(0.0, my - slope * mx), slope


def build_model(runs: list[dict]) -> dict:
    revisions: dict[str, dict] = {}
    for run in runs:
        for rev in run["galaxy"]["revisions"]:
            entry = revisions.setdefault(rev["revision"], {"tables": set(), "locks": set(), "points": []})
            for lock in rev["locks"]:
                if lock["mode"] in STRONG and lock["table"] != "alembic_version":
                    entry["tables"].add(lock["table"])
                    entry["locks"].add(f"{lock['table']} ({lock['mode'].removesuffix('Lock')})")
    for run in runs:
        sizes = {name: t["bytes"] for name, t in run["table_sizes"].items()}
        for rev in run["galaxy"]["revisions"]:
            entry = revisions[rev["revision"]]
            entry["points"].append((sum(sizes.get(t, 0) for t in entry["tables"]) / GB, rev["seconds"]))
    model = {"revisions": {}, "calibrated_on": [run["scale"] for run in runs]}
    for rid, entry in revisions.items():
        fixed, per_gb = _fit(entry["points"])
        model["revisions"][rid] = {
            "fixed_s": round(fixed, 4),
            "per_gb_s": round(per_gb, 4),
            "tables": sorted(entry["tables"]),
            "locks": sorted(entry["locks"]),
        }
    model["overhead_s"] = round(statistics.median(r["ours"]["wall_s"] - r["galaxy"]["migrations_s"] for r in runs), 3)
    return model


def check(model: dict, run: dict) -> dict:
    sizes = {name: t["bytes"] for name, t in run["table_sizes"].items()}
    measured = {rev["revision"]: rev["seconds"] for rev in run["galaxy"]["revisions"]}
    predicted = forecast(list(measured), sizes, model)
    total_measured = run["ours"]["wall_s"]
    slow = [
        {"revision": item.revision, "forecast_s": round(item.seconds, 3), "measured_s": measured[item.revision]}
        for item in predicted.revisions
        if measured[item.revision] > 5 or (item.seconds or 0) > 5
    ]
    return {
        "held_out": run["scale"],
        "jobs": run["generator"]["jobs"],
        "forecast_total_s": round(predicted.total_s, 3),
        "measured_total_s": total_measured,
        "total_error": round(predicted.total_s / total_measured - 1, 3),
        "revisions_over_5s": slow,
    }


def main() -> None:
    model = build_model([_load(scale) for scale in CALIBRATION])
    MODEL.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n")
    if (RESULTS / f"scale_{HELD_OUT}.json").is_file():
        result = check(model, _load(HELD_OUT))
        (RESULTS / "forecast_check.json").write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
