"""Claims bound to checks: ``<!-- check: NAME key=value ... -->`` after a sentence names a check function.

Each check is a small function (pytest-alembic style) asserting one fact against the installed
Galaxy code, Alembic, or an experiment with Galaxy's own scripts (``docs_build/checks/experiments.py``):
``docs_build/checks/claims_*.py`` define them. A check that backs a sentence stating numbers or ids
takes them as arguments: the marker carries the values the sentence states (``key=38``,
``key=a,b`` for a list) and the check compares them with what it measured. Each value must also
appear in the sentence (the paragraph, list item or table row the marker ends), so a sentence
edited to another number fails even when the marker is not. The docs hook runs the checks each
page names and fails the build when one is missing or fails; ``tests/test_claims.py`` runs them
all without building the site.

A sentence that states what a runbook's executed cell shows is bound by
``<!-- shown: RUNBOOK/SECTION key=value ... -->`` instead: SECTION is the slug of a ``##`` heading of
that runbook (``step-3`` for "Step 3: ...", ``verdict``, ``outcome``), and each value the marker
carries must be stated in the sentence and appear in the outputs the code cells under that heading
printed when the build executed the runbook (``docs_build/site_build/execution.py``); ``exit=N`` is
compared with the exit code the runbook's outcome cell recorded. Edit the sentence or the
runbook so they part, and the build fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from docs_build.checks import (  # noqa: F401  (they register the checks)
    claims_behaviour,
    claims_code,
    claims_compatibility,
    claims_contributing,
    claims_create,
    claims_deploy_production,
    claims_doctor,
    claims_doctor_states,
    claims_downgrade,
    claims_explanations,
    claims_from_migrate_production,
    claims_index,
    claims_install_database,
    claims_install_states,
    claims_lock_wait,
    claims_pages,
    claims_production,
    claims_restore,
    claims_runbooks,
    claims_safety,
    claims_scale,
    claims_status,
    claims_tool,
    claims_topics,
)
from docs_build.checks.claim_registry import CHECKS
from runbooks.paths import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
NOTEBOOKS = PROJECT_ROOT / "notebooks"
CHECK_MARKER = re.compile(r"<!-- check: ([a-z0-9_]+)((?:\s+[a-z_][a-z0-9_]*=[^\s>]+)*)\s*-->")
SHOWN_VALUE = re.compile(r'([a-z_][a-z0-9_]*)=("[^"]+"|[^\s>"]+)')  # a quoted value may hold spaces and commas
SHOWN_MARKER = re.compile(rf"<!-- shown: ([a-z0-9-]+)/([a-z0-9-]+)((?:\s+{SHOWN_VALUE.pattern})*)\s*-->")
ANY_MARKER = re.compile(rf"{CHECK_MARKER.pattern}|{SHOWN_MARKER.pattern}")
GENERATED_MARKER = re.compile(r"<!-- generated: ([a-z0-9-]+) -->")
NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()

__all__ = [
    "CHECKS",
    "ANY_MARKER",
    "CHECK_MARKER",
    "DOCS",
    "GENERATED_MARKER",
    "Binding",
    "bindings",
    "named_checks",
    "page_sources",
    "run_check",
    "SHOWN_MARKER",
    "shown_bindings",
]


# -- reading the pages ------------------------------------------------------------------------------


def page_sources() -> dict[str, str]:
    """Every hand-written page (``docs/**.md``) and runbook (markdown cells), by name."""
    found = {str(p.relative_to(DOCS)): p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md"))}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        found[f"runbooks/{path.name}"] = "\n\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
        )
    return found


def named_checks(text: str) -> list[str]:
    return [m[1] for m in CHECK_MARKER.finditer(text)]


@dataclass(frozen=True)
class Binding:
    """One marker: the check it names, the values it carries, and the sentence it ends."""

    name: str  # a check's name, or ``RUNBOOK/SECTION`` for a ``shown`` marker
    values: tuple[tuple[str, str], ...]
    sentence: str
    shown: bool = False  # a ``<!-- shown: -->`` marker: the values are read from an executed runbook

    def arguments(self) -> dict:
        return {key: _value(raw) for key, raw in self.values}

    def missing_from_sentence(self) -> list[str]:
        """The values the marker carries that its sentence does not state."""
        return [item for _, raw in self.values for item in _items(raw) if not _stated(item, self.sentence)]


def _items(raw: str) -> list[str]:
    return [raw[1:-1]] if raw.startswith('"') else raw.split(",")


def _value(raw: str):
    items = [int(i) if i.isdigit() else i for i in raw.split(",")]
    return items if "," in raw else items[0]


def _stated(item: str, sentence: str) -> bool:
    forms = [item]
    if item.isdigit() and int(item) < len(NUMBER_WORDS):
        forms.append(NUMBER_WORDS[int(item)])
    sentence = " ".join(sentence.replace("`", "").split())  # code spans count as words: `x` read back
    return any(re.search(rf"(?<![0-9A-Za-z.]){re.escape(f)}(?![0-9A-Za-z]|\.\d)", sentence, re.I) for f in forms)


def _unit_around(text: str, at: int) -> str:
    """The paragraph, list item or table row that holds position ``at`` of ``text``, markers removed."""
    previous, end = text.rfind("\n\n", 0, at), text.find("\n\n", at)
    block_start = 0 if previous < 0 else previous + 2
    block = text[block_start : len(text) if end < 0 else end]
    offset = at - block_start
    pieces = re.split(r"\n(?=\s*(?:[-*] |\d+\. |\|))", block)
    position = 0
    for piece in pieces:
        if position <= offset <= position + len(piece):
            return ANY_MARKER.sub("", piece)
        position += len(piece) + 1
    return ANY_MARKER.sub("", block)


def bindings(text: str) -> list[Binding]:
    found = []
    for match in CHECK_MARKER.finditer(text):
        values = tuple(tuple(pair.split("=", 1)) for pair in match[2].split())
        found.append(Binding(match[1], values, _unit_around(text, match.start())))
    return found


def shown_bindings(text: str) -> list[Binding]:
    """The ``<!-- shown: RUNBOOK/SECTION ... -->`` markers of ``text``, with the sentences they end."""
    found = []
    for match in SHOWN_MARKER.finditer(text):
        values = tuple(SHOWN_VALUE.findall(match[3]))
        found.append(Binding(f"{match[1]}/{match[2]}", values, _unit_around(text, match.start()), shown=True))
    return found


# -- what an executed runbook shows ------------------------------------------------------------------


def section_slug(heading: str) -> str:
    """``## Step 3: current revision`` -> ``step-3``; ``## Verdict`` -> ``verdict``."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lstrip("#").split(":")[0].strip().lower()).strip("-")


def _output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", "")])
    data = output.get("data", {})
    return "".join(data.get("text/plain", "")) + "".join(json.dumps(v) for k, v in data.items() if k.endswith("json"))


def executed_sections(notebook: dict) -> dict[str, str]:
    """What the code cells under each ``##`` heading of an executed notebook printed, by section slug."""
    sections: dict[str, list[str]] = {}
    current = ""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("## "):
                    current = section_slug(line)
                    sections.setdefault(current, [])
        elif cell["cell_type"] == "code":
            sections.setdefault(current, []).extend(_output_text(o) for o in cell.get("outputs", []))
    return {slug: "\n".join(texts) for slug, texts in sections.items()}


def executed_notebook(runbook: str) -> dict:
    """``runbook`` as the build executed it (the execution cache; executed now if it is not there)."""
    from docs_build.site_build.execution import executed

    return json.loads(executed(runbook).notebook.read_text(encoding="utf-8"))


def check_shown(binding: Binding, notebook: dict) -> str | None:
    """Why the executed runbook does not show what ``binding``'s values say, else None."""
    from runbooks.cli.runbook_outcome import OUTCOME_MIME

    section = binding.name.split("/", 1)[1]
    sections = executed_sections(notebook)
    if section not in sections:
        return f"shown: {binding.name}: the runbook has no section {section!r} (one of {', '.join(sections)})"
    for key, raw in binding.values:
        if key == "exit":
            codes = [
                o["data"][OUTCOME_MIME]["code"]
                for c in notebook["cells"]
                for o in c.get("outputs", [])
                if OUTCOME_MIME in o.get("data", {})
            ]
            if codes != [int(raw)]:
                return f"shown: {binding.name}: the marker says exit={raw}, the executed runbook's outcome: {codes}"
            continue
        absent = [item for item in _items(raw) if not _stated(item, sections[section])]
        if absent:
            return f"shown: {binding.name}: the executed cells do not show {', '.join(absent)} ({key})"
    return None


def run_check(name: str, arguments: dict | None = None) -> str | None:
    """None when the check passes with ``arguments`` (the marker's values), else why not."""
    func = CHECKS.get(name)
    if func is None:
        return f"no check named {name!r} in docs_build/checks/claims_*.py"
    try:
        func(**(arguments or {}))
    except Exception as error:  # an assertion, a missing value or a broken check: the claim is not shown true
        return f"{name} failed: {error.__class__.__name__}: {error}"[:500]
    return None


def check_binding(binding: Binding, ran: dict) -> str | None:
    """Why ``binding`` does not hold (its sentence lacks a value, or the check fails), else None.

    ``ran`` caches check results by name and values across pages.
    """
    missing = binding.missing_from_sentence()
    if missing:
        said = " ".join(binding.sentence.split())[:200]
        return f"{binding.name}: the marker says {', '.join(missing)}, the sentence does not: {said!r}"
    if binding.shown and not binding.values:
        return f"shown: {binding.name}: the marker carries no value to look for in the executed cells"
    key = (binding.shown, binding.name, binding.values)
    if key not in ran:
        if binding.shown:
            ran[key] = check_shown(binding, executed_notebook(binding.name.split("/", 1)[0]))
        else:
            ran[key] = run_check(binding.name, binding.arguments())
    return ran[key]
