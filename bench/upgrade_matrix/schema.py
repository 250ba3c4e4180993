"""The upgraded schema against a fresh head database made by Galaxy's own initialization.

Both are compared with Galaxy's model (``compare_metadata``) and their views, triggers and
functions with each other; what the upgraded database has that the fresh one does not (and the
reverse) are the differences. Each is judged the way ``troubleshoot --drift`` judges it
(runbooks.doctor.checks.schema_drift.classify, against runbooks.tasks.baseline): left by Galaxy's own
migrations on a named path (explained), or missing / extra / different (a finding).
"""

from __future__ import annotations

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.code.touching import revisions_naming
from runbooks.database.routines import routine_differences, schema_routines
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor.checks.schema_drift import classify, describe
from runbooks.tasks.baseline import _key, load_baseline

# classify()'s groups as troubleshoot's finding codes; only "left*" are explained by Galaxy's own code.
FINDING = {
    "left": "schema-left-by-galaxy",
    "left_needed": "schema-missing-left-by-galaxy",
    "missing": "schema-missing-object",
    "extra": "schema-drift",
    "differs": "schema-differs-from-revision",
}


def compare_schema(db: DatabaseUrl, graph: RevisionGraph, env: GalaxyEnv) -> dict:
    from runbooks.galaxy.commands import model_drift

    baseline = load_baseline(db, graph, env)
    differences = [d.to_dict() for d in model_drift(db, env).differences]
    differences += routine_differences(schema_routines(db), baseline.routines)
    fresh = {_key(d) for d in baseline.initialized}
    ours = [d for d in differences if _key(d) not in fresh]  # the fresh head database has these too
    listed = []
    for group, items in classify(ours, baseline).items():
        for item, why in items:
            why = why or _suspect(item, graph, baseline)
            listed.append(_entry(item, FINDING[group], why, explained=group.startswith("left")))
    for item in baseline.initialized:
        if _key(item) not in {_key(d) for d in differences}:
            why = "Galaxy's initialization at the head has it, the upgraded database matches the model instead"
            listed.append(_entry(item, "schema-left-by-galaxy", why, explained=True))
    listed.sort(key=lambda entry: (entry["explained"], entry["difference"]))
    return {"differences": listed, "unexplained": sum(1 for entry in listed if not entry["explained"])}


def _entry(item: dict, code: str, why: str, explained: bool) -> dict:
    key = {name: item.get(name, "") for name in ("kind", "table", "name", "detail")}  # for the leftovers catalogue
    return {"difference": describe(item), "key": key, "class": code, "explanation": why, "explained": explained}


def _suspect(item: dict, graph: RevisionGraph, baseline) -> str:
    """Not on a path the doctor's baseline knows (``troubleshoot --drift`` reports it): where to look."""
    known = ", ".join(sorted(path.split(",")[0].removeprefix("created by ") for path in baseline.paths)) or "none"
    column = item["name"] if item["table"] != item["name"] else ""
    found = revisions_naming(graph, item["table"], column)
    where = f"last named by {found[-1]} ({graph.revisions[found[-1]].message})" if found else "no revision names it"
    return f"not left on the baseline's paths ({known}), so troubleshoot --drift reports it; {where}"
