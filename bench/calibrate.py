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

from runbooks.tasks.forecast import GB, MODEL, forecast  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CALIBRATION, HELD_OUT = ["small", "medium", "heldout"], "large"
STRONG = ("AccessExclusiveLock", "ShareRowExclusiveLock", "ShareLock", "ExclusiveLock")


def _load(scale: str) -> dict:
    return json.loads((RESULTS / f"scale_{scale}.json").read_text())


# A revision that never took this long at a calibration scale gets no per-GB term: its times
# are milliseconds of noise, and a slope fitted through them would multiply by a big database.
NOISE_S = 0.5


def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    if len(points) < 2 or max(xs) - min(xs) < 1e-9 or max(ys) < NOISE_S:
        return statistics.median(ys), 0.0
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    slope = max(0.0, slope)
    return max(0.0, my - slope * mx), slope


def _strong_locks(rev: dict, seen: str) -> set[tuple[str, str]]:
    return {
        (lock["table"], lock["mode"])
        for lock in rev["locks"]
        if lock["mode"] in STRONG and lock["table"] != "alembic_version" and lock.get("seen", "full run") == seen
    }


def revision_locks(runs: list[dict]) -> dict[str, set[tuple[str, str]]]:
    """Per revision: the locks a run alone saw at any scale, and those every scale's full run gave it.

    A full run gives a lock to every revision of a sampling window, and the windows differ
    from scale to scale: what all of them agree on stays, the rest is the window's neighbours.
    """
    confirmed: dict[str, set] = {}
    windows: dict[str, list[set]] = {}
    for run in runs:
        for rev in run["galaxy"]["revisions"]:
            confirmed.setdefault(rev["revision"], set()).update(_strong_locks(rev, "alone"))
            windows.setdefault(rev["revision"], []).append(_strong_locks(rev, "full run"))
    return {rid: confirmed[rid] | set.intersection(*windows[rid]) for rid in confirmed}


def build_model(runs: list[dict]) -> dict:
    revisions: dict[str, dict] = {}
    for rid, locks in revision_locks(runs).items():
        revisions[rid] = {
            "tables": {table for table, _ in locks},
            "locks": {f"{table} ({mode.removesuffix('Lock')})" for table, mode in locks},
            "points": [],
        }
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
