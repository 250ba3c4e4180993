"""Only when asked: the schema against Galaxy's models and against what Galaxy's own code leaves.

Each difference from the model is judged against the baseline (``runbooks.tasks.baseline``: a database
Galaxy's own code made at the head, and older releases' own databases upgraded by this code):
left by Galaxy's own migrations (info, naming the path), a missing object the code needs (error),
an extra object (warning, ``schema-drift``), a type or constraint that differs from what the
applied revisions produce (error, naming the revision). Views, triggers and functions too.
"""

from __future__ import annotations

from runbooks.doctor.checks.examination import SHOWN, Examination

WHAT = {
    "view": "view",
    "trigger": "trigger",
    "function": "function",
    "table": "table",
    "column": "column",
    "index": "index",
    "constraint": "constraint",
    "fk": "foreign key",
}


_NO_BASELINE = "a limit of this check, not a fault of the database"


def check_drift(ex: Examination, drift: bool) -> None:
    state = ex.status.state
    if not drift:
        ex.skip("schema-drift", "it imports Galaxy's model (seconds)", "add --drift to compare the schema")
        return
    if state not in ("up-to-date", "no-version-table", "revision-missing"):
        ex.skip(
            "schema-drift",
            f"the database is {state}: pending revisions would show as drift",
            "upgrade first, then --drift",
        )
        return
    from runbooks.database.routines import routine_differences, schema_routines
    from runbooks.tasks.baseline import BaselineUnavailable, load_baseline
    from runbooks.tasks.drift_report_cache import cached_model_drift

    report = cached_model_drift(ex.db, ex.env)  # a worker that cannot run this code stops here (exit 2)
    try:
        baseline = load_baseline(ex.db, ex.graph, ex.env)
    except BaselineUnavailable as error:
        ex.skip("schema-drift", f"what Galaxy's own code leaves could not be made: {error}", _NO_BASELINE)
        return
    ex.ran("schema-drift")
    differences = [d.to_dict() for d in report.differences]
    differences += routine_differences(schema_routines(ex.db), baseline.routines)
    groups = classify(differences, baseline)
    if not (groups["missing"] or groups["extra"] or groups["differs"]):
        _schema_matches(ex)
    _report(ex, groups, len(report.ignored))


def classify(differences: list[dict], baseline) -> dict[str, list[tuple[dict, str]]]:
    """Each difference in its group, with why: the baseline's path, else the upgrade matrix's catalogue of
    what Galaxy's upgrade paths leave (only where this database's history fits the path; a table or column
    the model maps stays a warning, ``left_needed``: Galaxy fails where it reads it)."""
    from runbooks.doctor.galaxy_leftovers import NEEDED, explain_leftovers

    leftovers = explain_leftovers(differences, baseline.dialect)
    groups = {"left": [], "left_needed": [], "missing": [], "extra": [], "differs": []}
    for item in differences:
        why = baseline.explain(item)
        leftover = leftovers.get((item["kind"], item["table"], item["name"], item.get("detail", "")))
        if why:
            groups["left"].append((item, why))
        elif leftover and leftover.left:
            needed = item["kind"] in NEEDED
            groups["left_needed" if needed else "left"].append(
                (item, f"{leftover.why}: {leftover.evidence}" if needed else leftover.why)
            )
        elif item["kind"].startswith("add_"):
            groups["missing"].append((item, f"{leftover.why}: {leftover.evidence}" if leftover else ""))
        elif item["kind"].startswith("remove_"):
            groups["extra"].append((item, ""))
        else:
            groups["differs"].append((item, ""))
    return groups


def _schema_matches(ex: Examination) -> None:
    for item in ex.report.findings:
        if item.code in ("no-version-table", "revision-missing-for-branch"):
            heads = " ".join(ex.graph.heads())
            item.fix += f"; the schema matches what this code's head leaves: `sh scripts/run_alembic.sh stamp {heads}`"
            item.details["schema_matches_head"] = True


def describe(item: dict) -> str:
    from runbooks.galaxy.drift_report import KIND_TEXT

    kind = item["kind"]
    _, _, noun = kind.partition("_")
    if kind in KIND_TEXT:
        what = KIND_TEXT[kind]
    elif kind.startswith("add_"):
        what = f"{WHAT.get(noun, noun)} Galaxy's code makes, missing from the database"
    elif kind.startswith("remove_"):
        what = f"{WHAT.get(noun, noun)} in the database, not made by Galaxy's code"
    else:
        what = f"{WHAT.get(noun, noun)} differs"
    where = f"{item['table']}." if item["table"] and item["table"] != item["name"] else ""
    return f"{what}: {where}{item['name']}" + (f" ({item['detail']})" if item.get("detail") else "")


def _listed(items, with_why: bool = False) -> str:
    text = "; ".join(describe(item) + (f" ({why})" if with_why and why else "") for item, why in items[:SHOWN])
    return text + (f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def _report(ex: Examination, groups: dict, ignored: int) -> None:
    if groups["missing"]:
        made_by = {_short(item): _made_by(ex, item) for item, _ in groups["missing"]}
        ex.add(
            "schema-missing-object",
            f"{len(groups['missing'])} object(s) Galaxy's code needs are missing: {_listed(groups['missing'], True)}",
            "Galaxy fails at runtime where it uses them; " + _missing_fix(ex, made_by),
            {"objects": [describe(item) for item, _ in groups["missing"]], "made_by": made_by},
        )
    if groups["differs"]:
        named = [(item, _revision_for(ex, item)) for item, _ in groups["differs"]]
        ex.add(
            "schema-differs-from-revision",
            f"{len(named)} type(s) or constraint(s) differ from what the applied revisions produce: "
            + "; ".join(f"{describe(item)}, expected from {rev}" for item, rev in named[:SHOWN]),
            "a revision that did not run, or a manual change: make it match what that revision creates (its "
            "upgrade() shows the type), or restore a backup; then `--drift` again",
            {"differences": [{"difference": describe(item), "revision": rev} for item, rev in named]},
        )
    if groups["extra"]:
        ex.add(
            "schema-drift",
            f"{len(groups['extra'])} object(s) in the database that Galaxy's code does not make: "
            f"{_listed(groups['extra'])}",
            "harmless to Galaxy unless a later revision creates the same name; find who added them (a manual fix, "
            "a dev branch's revision later removed) and keep or remove them knowingly",
            {"by_table": _by_table(groups["extra"]), "ignored": ignored},
            severity="warning" if ex.status.state == "up-to-date" else "info",
        )
    if groups["left_needed"]:
        _left_needed(ex, groups["left_needed"])
    if groups["left"]:
        paths = sorted({why for _, why in groups["left"]})
        ex.add(
            "schema-left-by-galaxy",
            f"{len(groups['left'])} difference(s) from the model that Galaxy's own code leaves ("
            + "; ".join(paths)
            + f"): {_listed(groups['left'])}",
            "nothing to do: Galaxy works with them (they come from its own migrations, not from a change by hand)",
            {"paths": paths, "differences": [describe(item) for item, _ in groups["left"]]},
        )


def _left_needed(ex: Examination, items: list[tuple[dict, str]]) -> None:
    paths = sorted({why for _, why in items})
    ex.add(
        "schema-missing-left-by-galaxy",
        f"{len(items)} table(s) or column(s) Galaxy's model maps are missing, as Galaxy's own upgrade leaves them ("
        + "; ".join(paths)
        + f"): {_listed(items)}",
        "not a change by hand, but Galaxy fails where it reads them: add each as the model defines it (type in "
        "brackets), e.g. `ALTER TABLE t ADD COLUMN c TYPE`, after a backup; then `--drift` again",
        {"paths": paths, "objects": [describe(item) for item, _ in items]},
        severity="warning",
    )


def _by_table(items) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for item, _ in sorted(items, key=lambda pair: (pair[0]["table"], pair[0]["kind"], pair[0]["name"])):
        grouped.setdefault(item["table"], []).append(describe(item))
    return grouped


def _short(item: dict) -> str:
    """``column history.archived (BOOLEAN)``: the kind, where, and the model's type or columns."""
    _, _, noun = item["kind"].partition("_")
    where = f"{item['table']}." if item["table"] and item["table"] != item["name"] else ""
    return f"{noun} {where}{item['name']}" + (f" ({item['detail']})" if item.get("detail") else "")


def _made_by(ex: Examination, item: dict) -> str | None:
    """The last revision this database ran that names the missing object (for an index, else its column)."""
    from runbooks.code.touching import revisions_naming

    applied = ex.graph.ancestors(ex.status.rows) if ex.status.rows else set(ex.graph.revisions)
    names = [item["name"] if item["table"] != item["name"] else ""]
    if item["kind"] == "add_index" and item.get("detail"):
        names.append(item["detail"].split(",")[0].strip())
    for name in names:
        found = revisions_naming(ex.graph, item["table"], name, applied)
        if found:
            return found[-1]
    return None


def _missing_fix(ex: Examination, made_by: dict[str, str | None]) -> str:
    """A backup can hold only what some revision (or the initialization that created the database) made."""
    made = [f"{what} by {rid}" for what, rid in made_by.items() if rid]
    never = [what for what, rid in made_by.items() if not rid]
    parts = []
    if made:
        parts.append(
            "restore from a backup taken before they went missing, or re-create each as the revision that made it "
            f"does ({'; '.join(made[:SHOWN])})"
        )
    if never:
        parts.append(
            f"no revision this database ran makes {'; '.join(never[:SHOWN])}: only Galaxy's initialization "
            "(create_all) of a release that maps them does, so if the database was created by an older release and "
            "upgraded, no backup of it has them; add each as Galaxy's model defines it (type in brackets), after a "
            "backup"
        )
    return "; ".join(parts) + f"; then {ex.cli('troubleshoot', '--drift')} again"


def _revision_for(ex: Examination, item: dict) -> str:
    from runbooks.code.touching import revisions_naming

    applied = ex.graph.ancestors(ex.status.rows) if ex.status.rows else set(ex.graph.revisions)
    column = item["name"] if item["table"] != item["name"] else ""
    found = revisions_naming(ex.graph, item["table"], column, applied)
    if not found:
        return "Galaxy's initialization (create_all; no revision alters it)"
    rid = found[-1]
    return f"{rid} ({ex.graph.revisions[rid].message})"
