"""The claim finder and the claim report on the contributing page.

A *claim unit* is a paragraph, list item or table row that states, in at least one sentence,
how Galaxy, Alembic, SQLite or PostgreSQL behaves. A unit is bound when it carries a
``<!-- check: NAME -->`` marker or is a ``<!-- generated: NAME -->`` placeholder (quoted output).
Not counted: headings, table headers, code, navigation ("see …", link lists), instructions to
the reader, and sentences about this project's own tool alone (the doctor, the runbooks, the
tasks' steps), which its test suite covers rather than a claim check.
"""

from __future__ import annotations

import re
from collections import Counter

from docs_build.checks.claims import CHECK_MARKER, GENERATED_MARKER, page_sources

SUBJECT = re.compile(
    r"Galaxy|Alembic|SQLite|PostgreSQL|alembic_version|migrate_version|manage_db|db_dev|run_alembic|create_db|"
    r"galaxy-data|env\.py|util\.py|\bgxy\b|\btsi\b|[A-Za-z]+Error\b|\b[0-9a-f]{12}\b"
)
# Sentences that name only this project's tool: covered by its tests, not by claim checks.
OWN_TOOL = re.compile(
    r"\bdoctor\b|runbook|python -m runbooks|\bthis (task|guide|site|page|project)\b|\bthe (upgrade |downgrade |"
    r"status |create )?task\b|\btest suite\b|\blint\b|\bworkspace\b|\bthe plan\b|--rehearse|--json|--drift|"
    r"RUNBOOK_|\bscratch\b|\bpractice database|\bthe sample\b|embedded sample|\bbench/|rehearsal|tutorial|read-only|"
    r"docs_build|tests/|mkdocs|\.github|\bevery cell\b|\bnothing here\b",
    re.I,
)
GALAXY_STRONG = re.compile(
    r"Galaxy's `?env\.py|Galaxy's (startup|helpers|default)|Alembic (reads|goes|imports|finds|undoes|downgrades|"
    r"expects|steps)|SQLite (reports|does|can)|PostgreSQL (reports|runs)|`env\.py` (catches|swallows)"
)
IMPERATIVE = re.compile(
    r"^(Run|Check|Back up|Stop|Restore|Move|Add|Use|Read|Choose|Return|Make|Change|Guard|Put|Open|Set|Delete|"
    r"Copy|Test|Do not|Start|Keep|Never|Always|Point|Write|Pass|Say|Install|Forward|Upgrade|Downgrade|Refresh|"
    r"Go|Look|Review|Drop|Re-parent|Follow|Compare|From a workspace|For scripts|To return|To point|If you)\b"
)
NAVIGATION = re.compile(r"^(See|see|The exact messages?|Which revision|The graph|How to read|More on)\b|\bpage\b\.?$")
LABEL = re.compile(r"^(\*\*[^*]+\*\*\s*)|^\d+\.\s+\*\*[^*]+\*\*\s*")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(\"])")
CODE_ONLY = re.compile(r"[\s.;:,]*(`[^`]*`[\s.;:,]*)+")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _clean(unit: str) -> str:
    text = CHECK_MARKER.sub("", unit)
    text = re.sub(r"<!--.*?-->", "", text)
    text = LINK.sub(r"\1", text)  # links: their text only
    return re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", text).strip()


def is_claim_sentence(sentence: str) -> bool:
    sentence = LABEL.sub("", sentence.strip())
    if CODE_ONLY.fullmatch(sentence):
        return False
    if not SUBJECT.search(sentence) or IMPERATIVE.match(sentence) or NAVIGATION.search(sentence):
        return False
    return not OWN_TOOL.search(sentence) or bool(GALAXY_STRONG.search(sentence))


# Units that describe a step of this project's tasks or the doctor's diagnosis, by their label.
OWN_LABEL = re.compile(r"^(\d+\.\s+)?\*\*(Diagnosis|Pre-flight|Rehearsal|Confirmation|Backup|Verify|Status before)\b")


def is_claim(unit: str) -> bool:
    if OWN_LABEL.match(unit.strip()):
        return False
    if len(LINK.findall(unit)) >= 2 and len(LINK.sub("", unit)) < 80:
        return False  # a list of links: navigation
    text = _clean(unit)
    if text.startswith("|"):
        cells = [c.strip() for c in text.strip("|").split("|")]
        return any(is_claim_sentence(c) for c in cells[1:]) or is_claim_sentence(" ".join(cells))
    return any(is_claim_sentence(s) for s in SENTENCE_END.split(text))


def _table_headers(block: str) -> set[str]:
    lines = block.splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1) if re.match(r"\s*\|\s*---", lines[i + 1])}


def claim_units(text: str) -> list[str]:
    """The paragraphs, list items and table rows of ``text`` that state a fact (see the module doc)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    units = []
    for block in re.split(r"\n\s*\n", text):
        headers = _table_headers(block)
        for part in re.split(r"\n(?=\s*(?:[-*] |\d+\. |\|))", block):
            stripped = part.strip()
            if GENERATED_MARKER.fullmatch(stripped):
                units.append(stripped)  # quoted output: a claim bound by what produced it
            elif stripped and not stripped.startswith(("#", "| ---", "<!--")) and stripped not in headers:
                if is_claim(stripped):
                    units.append(stripped)
    return units


def claim_counts() -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for page, text in page_sources().items():
        units = claim_units(text)
        counts[page] = Counter(
            "check" if CHECK_MARKER.search(u) else "generated" if GENERATED_MARKER.search(u) else "unbound"
            for u in units
        )
        counts[page]["claims"] = len(units)
    return counts


def unbound_units() -> list[tuple[str, str]]:
    return [
        (page, u)
        for page, text in page_sources().items()
        for u in claim_units(text)
        if not CHECK_MARKER.search(u) and not GENERATED_MARKER.search(u)
    ]


def claim_report() -> str:
    counts = claim_counts()
    total = Counter()
    for page_counts in counts.values():
        total.update(page_counts)
    bound = total["check"] + total["generated"]
    share = 100 * bound / total["claims"] if total["claims"] else 100
    lines = [
        f"{total['claims']} claim units found (paragraphs, list items and table rows with at least one "
        f"sentence about how Galaxy, Alembic, SQLite or PostgreSQL behaves; instructions, navigation and "
        f"sentences about this project's own tool alone are not counted), {bound} bound ({share:.0f}%): "
        f"{total['check']} by a named check, {total['generated']} by generated output; "
        f"{total['unbound']} not bound yet.",
        "",
        "| page | claims | bound by a check | bound by generated output | not bound |",
        "| --- | --- | --- | --- | --- |",
    ]
    for page, c in counts.items():
        if c["claims"]:
            lines.append(f"| `{page}` | {c['claims']} | {c['check']} | {c['generated']} | {c['unbound']} |")
    return "\n".join(lines)
