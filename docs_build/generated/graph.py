"""The revision graph of both branches as Mermaid, from ``runbooks.code.revisions.RevisionGraph``.

Long straight runs are folded into one edge labelled with their length, so the diagram keeps
what matters for a migration (bases, heads, merges, forks, release tags) at a readable size;
the table under it lists every revision.
"""

from __future__ import annotations

import re

from runbooks.code.revisions import RevisionGraph

BRANCH_TITLES = {"gxy": "gxy: the Galaxy model", "tsi": "tsi: the tool shed install model"}


def landmarks(graph: RevisionGraph, branch: str) -> list[str]:
    """Revisions the diagram always shows: bases, heads, merges, forks and tagged revisions."""
    tagged = set(graph.tags_by_revision())
    keep = []
    for rev_id in graph.in_order(branch):
        revision = graph.revisions[rev_id]
        if (
            revision.is_base
            or revision.is_merge
            or not graph.children.get(rev_id)
            or len(graph.children.get(rev_id, [])) > 1
            or rev_id in tagged
            or any(graph.revisions[child].is_merge for child in graph.children.get(rev_id, []))
        ):
            keep.append(rev_id)
    return keep


def folded_edges(graph: RevisionGraph, branch: str) -> list[tuple[str, str, int]]:
    """``(parent landmark, child landmark, revisions folded between them)``."""
    keep = set(landmarks(graph, branch))
    edges = []
    for rev_id in graph.in_order(branch):
        if rev_id not in keep:
            continue
        for parent in graph.revisions[rev_id].parents:
            folded = 0
            while parent not in keep:
                folded += 1
                (parent,) = graph.revisions[parent].parents
            edges.append((parent, rev_id, folded))
    return edges


def mermaid(graph: RevisionGraph, branch: str) -> str:
    tags = graph.tags_by_revision()
    heads = set(graph.heads(branch))
    lines = ["flowchart BT"]  # node ids get an r_ prefix: Mermaid ids should not start with a digit
    if branch == "gxy" and "base" in tags:
        lines.append(f'  r_base(["base: {", ".join(tags["base"])} (SQLAlchemy Migrate 180)"])')
    for rev_id in landmarks(graph, branch):
        revision = graph.revisions[rev_id]
        label = rev_id
        if rev_id in tags:
            label += "<br/>release " + ", ".join(tags[rev_id])
        if revision.is_merge:
            label += "<br/>merge"
        if rev_id in heads:
            label += "<br/>head"
        shape = ("{{", "}}") if revision.is_merge else ("([", "])") if rev_id in heads else ("[", "]")
        lines.append(f'  r_{rev_id}{shape[0]}"{label}"{shape[1]}')
        if revision.is_base and branch == "gxy" and "base" in tags:
            lines.append(f"  r_base --> r_{rev_id}")
    for parent, child, folded in folded_edges(graph, branch):
        arrow = f' -- "{folded} revision{"s" if folded != 1 else ""}" --> ' if folded else " --> "
        lines.append(f"  r_{parent}{arrow}r_{child}")
    for rev_id in tags:
        if rev_id in graph.revisions and graph.branch_of(rev_id) == branch:
            lines.append(f"  class r_{rev_id} tagged")
    lines.append("  classDef tagged stroke-width:3px")
    return "\n".join(lines)


def breakable(text: str, longest: int = 24) -> str:
    """A word longer than ``longest`` (``workflow_request_input_parameters__workflow_invocation_id``)
    may break after its underscores and dots (``<wbr>``), so it does not widen its table column."""
    return " ".join(
        re.sub(r"([_.]+)", r"\1<wbr>", word) if len(word) > longest and "`" not in word else word
        for word in text.split(" ")
    )


def graph_page(graph: RevisionGraph) -> str:
    tags = graph.tags_by_revision()
    out = [
        "# Revision graph",
        "",
        "Generated at build time from the revision files of the installed Galaxy. Arrows point",
        "from a revision to the next one; a run of revisions with one parent and one child is",
        "drawn as one arrow labelled with how many revisions it holds. Rounded boxes are heads,",
        "hexagons are merge revisions (two parents), thick borders carry a release tag",
        "([release tags](release-tags.md)). The table under each diagram lists every revision,",
        "oldest first. Why merges exist: [merges and multiple heads](../explanation/merges.md).",
    ]
    for branch in ("gxy", "tsi"):
        order = graph.in_order(branch)
        out += [
            "",
            f"## {BRANCH_TITLES[branch]}",
            "",
            f"{len(order)} revision(s); base {', '.join(f'`{b}`' for b in graph.bases(branch))}; "
            f"head {', '.join(f'`{h}`' for h in graph.heads(branch))}; "
            f"{len(graph.merges(branch))} merge revision(s).",
            "",
            "```mermaid",
            mermaid(graph, branch),
            "```",
            "",
            "| # | revision | parents | release | message |",
            "| ---: | --- | --- | --- | --- |",
        ]
        for number, rev_id in enumerate(order, 1):
            revision = graph.revisions[rev_id]
            parents = ", ".join(f"`{p}`" for p in revision.parents) or "(base)"
            if revision.is_merge:
                parents += " (merge)"
            release = ", ".join(tags.get(rev_id, []))
            message = breakable(revision.message.replace("|", "\\|"))
            out.append(f"| {number} | `{rev_id}` | {parents} | {release} | {message} |")
    return "\n".join(out) + "\n"
