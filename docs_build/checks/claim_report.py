"""The claim report on the contributing page: every factual sentence of the hand-written pages, and
whether a check or an executed runbook backs it.

The unit is the sentence (a table row counts as one). A sentence is *factual* unless its form says
otherwise; the exclusions are by form, never by topic, and ``EXCLUSIONS`` lists them for the page:
headings, code, table headers, generated placeholders (their text is made at build time, not
written), a label alone, instructions (a sentence that starts with a verb telling the reader what
to do), navigation (a pointer to another page or section) and introductions (a sentence that ends
with a colon, before the list, table, code or output it introduces). A factual sentence is *bound*
when a ``<!-- check: NAME -->`` marker sits in it or right after it, and *executed* when a
``<!-- shown: RUNBOOK/SECTION key=value -->`` marker does (the build finds the values in what that
runbook's executed cells printed; ``docs_build/checks/claims.py``). Placeholders are counted on
their own, never as bound sentences.
"""

from __future__ import annotations

import re
from collections import Counter

from docs_build.checks.claims import CHECK_MARKER, GENERATED_MARKER, SHOWN_MARKER, page_sources

EXCLUSIONS = [
    ("heading", "a line starting with `#`"),
    ("code", "a fenced block, or a sentence that is only inline code"),
    ("table header", "the first row of a table, and its `---` row"),
    ("generated placeholder", "`<!-- generated: NAME -->`: counted apart, its text is made at build time"),
    ("label", 'a bold label alone (`**Fix.**`), a tab title (`=== "From a clone"`), a sentence under three words'),
    ("instruction", "a sentence that starts with an imperative verb (Run, Back up, Use, ...) or `If you`"),
    ("navigation", "a sentence that starts with See / More on, or only points at a page or section"),
    ("introduction", "a sentence that ends with a colon, before what it introduces"),
]

IMPERATIVE = re.compile(
    r"^(Run|Check|Back up|Stop|Restore|Move|Add|Use|Read|Choose|Return|Make|Change|Guard|Put|Open|Set|Delete|"
    r"Copy|Test|Do not|Don't|Start|Keep|Never|Always|Point|Write|Pass|Say|Install|Forward|Upgrade|Downgrade|"
    r"Refresh|Go|Look|Review|Drop|Re-parent|Follow|Compare|Give|Try|Edit|Remove|Create|Take|Fix|Let|Wait|"
    r"Leave|Ask|Call|Replace|Restart|Note|Mind|If you)\b"
)
NAVIGATION = re.compile(r"^(See|see|More on|Next|Previous)\b|^\W*\[[^\]]+\]\([^)]*\)\W*$")
LABEL = re.compile(r"^\s*(?:[-*]|\d+\.)?\s*\*\*[^*]+\*\*[\s.:]*")
TAB_TITLE = re.compile(r'^===[!+]? "[^"]*"$')  # a content tab's title (pymdownx.tabbed)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(\"\[])")
MARKER_AFTER_END = re.compile(r"([.!?;:,])(\s*)((?:<!-- (?:check|shown):[^>]*-->\s*)+)")
CODE_ONLY = re.compile(r"[\s.;:,]*(`[^`]*`[\s.;:,]*)+")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
BOUND = "\u2713"  # where a check marker stood, once the markers are taken out
SHOWN = "\u25b6"  # where a shown marker stood


def _pieces(text: str) -> list[tuple[str | None, str]]:
    """``(kind or None, piece)`` for the paragraphs, list items, table rows, headings and code blocks
    of ``text``: a heading, a table header or a code block has its kind already."""
    found: list[tuple[str | None, str]] = [("code", block) for block in re.findall(r"```.*?```", text, flags=re.S)]
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for block in re.split(r"\n\s*\n", text):
        lines = block.splitlines()
        headers = {lines[i].strip() for i in range(len(lines) - 1) if re.match(r"\s*\|\s*---", lines[i + 1])}
        for part in re.split(r"\n(?=\s*(?:[-*] |\d+\. |\||#))", block):
            stripped = part.strip()
            if stripped.startswith("#"):
                found.append(("heading", stripped))
            elif stripped in headers:
                found.append(("table header", stripped))
            elif stripped and not re.match(r"\|\s*---", stripped):
                found.append((None, stripped))
    return found


def _sentences(piece: str) -> list[str]:
    """The sentences of one piece; a marker after a sentence's full stop belongs to that sentence."""
    if GENERATED_MARKER.fullmatch(piece):
        return [piece]
    if piece.startswith("|"):
        return [SHOWN_MARKER.sub(SHOWN, CHECK_MARKER.sub(BOUND, piece))]
    text = MARKER_AFTER_END.sub(lambda m: f"{m[3].strip()}{m[1]}{m[2] or ' '}", piece)
    text = SHOWN_MARKER.sub(SHOWN, CHECK_MARKER.sub(BOUND, text))
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = LINK.sub(r"\1", text)
    text = re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", text)
    return [s.strip() for s in SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def kind(sentence: str) -> str:
    """``placeholder``, ``check``, ``executed``, ``unbound`` or the exclusion that applies."""
    if GENERATED_MARKER.fullmatch(sentence):
        return "placeholder"
    if sentence.startswith("|"):
        return _bound(sentence)
    bare = LABEL.sub("", sentence).replace(BOUND, "").replace(SHOWN, "").strip()
    if CODE_ONLY.fullmatch(bare):
        return "code"
    if len(bare.split()) < 3 or TAB_TITLE.match(bare):
        return "label"
    if IMPERATIVE.match(bare):
        return "instruction"
    if NAVIGATION.search(bare):
        return "navigation"
    if bare.rstrip(" *").endswith(":"):
        return "introduction"
    return _bound(sentence)


def _bound(sentence: str) -> str:
    return "check" if BOUND in sentence else "executed" if SHOWN in sentence else "unbound"


def claim_units(text: str) -> list[tuple[str, str]]:
    """``(kind, sentence)`` for every sentence and placeholder of ``text``."""
    return [(known, piece) if known else (kind(s), s) for known, piece in _pieces(text) for s in _sentences(piece)]


def claim_counts() -> dict[str, Counter]:
    counts = {}
    for page, text in page_sources().items():
        found = Counter(k for k, _ in claim_units(text))
        found["claims"] = found["check"] + found["executed"] + found["unbound"]
        counts[page] = found
    return counts


def unbound_units() -> list[tuple[str, str]]:
    return [(page, s) for page, text in page_sources().items() for k, s in claim_units(text) if k == "unbound"]


def claim_report() -> str:
    counts = claim_counts()
    total = Counter()
    for page_counts in counts.values():
        total.update(page_counts)
    bound = total["check"] + total["executed"]
    share = 100 * bound / total["claims"] if total["claims"] else 100
    excluded = sum(total[name] for name, _ in EXCLUSIONS if name in total)
    lines = [
        f"{total['claims']} factual sentences on the hand-written pages and runbooks, {bound} of them "
        f"bound ({share:.0f}%): {total['check']} to a check, {total['executed']} to what an executed runbook cell "
        f"shows; {total['unbound']} not bound yet. Counted apart: "
        f"{total['placeholder']} generated placeholders, and {excluded} sentences excluded by their form:",
        "",
        *[f"- **{name}**: {what} ({total[name]})" for name, what in EXCLUSIONS if name != "generated placeholder"],
        "",
        "| page | factual sentences | bound to a check | shown by an executed cell | not bound | bound | "
        "generated placeholders |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for page, c in counts.items():
        if c["claims"] or c["placeholder"]:
            share = f"{100 * (c['check'] + c['executed']) / c['claims']:.0f}%" if c["claims"] else "-"
            lines.append(
                f"| `{page}` | {c['claims']} | {c['check']} | {c['executed']} | {c['unbound']} | {share} "
                f"| {c['placeholder']} |"
            )
    return "\n".join(lines)
