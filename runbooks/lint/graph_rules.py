"""The rules that compare a revision file with the revision graph of its Galaxy code.

They apply to a new revision (one the graph does not know yet, or knows from this very
file), so the calibration on Galaxy's own revisions skips them. Each rule is a ``GraphRule``:
its ``Rule`` and a ``check(source, graph)`` that emits only that rule's id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runbooks.code.revision_source import RevisionSource
from runbooks.code.revisions import Revision, RevisionGraph, as_tuple
from runbooks.lint.catalogue import Finding, Rule


@dataclass(frozen=True)
class GraphRule:
    rule: Rule
    check: Callable[[RevisionSource, RevisionGraph], Iterator[Finding]]


def _known(source: RevisionSource, graph: RevisionGraph) -> tuple[str, Revision | None, bool]:
    """The file's revision id, the graph's revision of that id, and whether it is this very file."""
    revision, _ = source.literal("revision")
    existing = graph.revisions.get(revision)
    return revision, existing, existing is not None and Path(existing.path).resolve() == source.path.resolve()


# -- not-current-head ----------------------------------------------------------------------

NOT_CURRENT_HEAD = Rule(
    "not-current-head",
    "error",
    "`down_revision` is not the current head",
    "A new revision must sit on top of the branch's only head. Based on an older revision, "
    "it creates a second head, and commands that target `gxy@head` (Galaxy's upgrade, "
    "`manage_db.sh upgrade`) fail with 'Multiple heads are present ...' "
    "(galaxyproject/galaxy#15768, #22370).",
    "Set `down_revision` (and `Revises:` in the docstring) to the current head, or create the "
    "revision again on an up-to-date checkout; if two heads already exist, add a merge "
    "revision or re-parent one of them.",
)


def not_current_head(source: RevisionSource, graph: RevisionGraph) -> Iterator[Finding]:
    revision, existing, this_file = _known(source, graph)
    down_revision, down_line = source.literal("down_revision")
    if this_file:
        # Already part of the graph: only complain when the branch has split into several heads.
        heads = graph.heads(existing.branch)
        if len(heads) > 1 and revision in heads:
            yield NOT_CURRENT_HEAD.finding(
                down_line,
                f"the {existing.branch} branch has {len(heads)} heads ({', '.join(heads)}) and this revision is one "
                "of them: Galaxy stops with 'Multiple heads are present'",
            )
        return
    parents = as_tuple(down_revision)
    known = [p for p in parents if p in graph.revisions]
    branch = graph.branch_of(known[0]) if known else ("tsi" if "versions_tsi" in source.path.parts else "gxy")
    heads = graph.heads(branch)
    head_text = ", ".join(repr(h) for h in heads) or "none"
    fix = (
        f"set down_revision = {heads[0]!r} (and 'Revises: {heads[0]}' in the docstring), "
        "or create the revision again on an up-to-date checkout"
        if len(heads) == 1
        else f"the {branch} branch already has several heads ({head_text}): merge them first"
    )
    if not parents:
        message = f"down_revision is None: this new revision starts a second base instead of following {head_text}"
    elif len(known) < len(parents):
        unknown = ", ".join(repr(p) for p in parents if p not in graph.revisions)
        message = f"down_revision {unknown} is not a revision of this Galaxy code (current {branch} head: {head_text})"
    elif set(parents) != set(heads):
        message = (
            f"down_revision {', '.join(repr(p) for p in parents)} is not the current {branch} head ({head_text}): "
            f"this revision would add a second {branch} head"
        )
    else:
        return
    yield NOT_CURRENT_HEAD.finding(down_line, message, fix)


# -- duplicate-revision-id -------------------------------------------------------------------

DUPLICATE_REVISION_ID = Rule(
    "duplicate-revision-id",
    "error",
    "The revision id is already used by another file",
    "Alembic refuses to load a script directory where two files declare the same `revision`.",
    "Give the new file a fresh id (let `manage_db.sh revision` or `python -m runbooks create` "
    "generate it) and rename the file to match.",
)


def duplicate_revision_id(source: RevisionSource, graph: RevisionGraph) -> Iterator[Finding]:
    revision, existing, this_file = _known(source, graph)
    if existing is not None and not this_file:
        yield DUPLICATE_REVISION_ID.finding(
            source.literal("revision")[1],
            f"revision {revision!r} is already defined by {existing.path.name}",
        )


GRAPH_RULES = (
    GraphRule(NOT_CURRENT_HEAD, not_current_head),
    GraphRule(DUPLICATE_REVISION_ID, duplicate_revision_id),
)
