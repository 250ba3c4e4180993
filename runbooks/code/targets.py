"""What a user may name as the destination of an upgrade or downgrade, and where it leads.

Accepted: ``head``/``heads`` (both branches), a release tag (``25.0``, ``release_25.0``),
a full or unique-prefix revision, ``gxy@head``/``tsi@head``, ``gxy@base``/``base``/``22.01``,
relative steps ``gxy@+1``, ``gxy@-1``, ``+1``/``-1`` (Galaxy reads these as ``gxy@``),
and ``REV+N``/``REV-N``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runbooks.code.revisions import RevisionGraph, release_key
from runbooks.errors import SeeCommand, UsageError

RELATIVE = re.compile(r"^(?:(?P<anchor>[A-Za-z0-9_]+)@|(?P<rev>[0-9a-fA-F]+))?(?P<step>[+-]\d+)$")
VALID_FORMS = (
    "head, a release tag (25.0 or release_25.0), a revision id or unique prefix, gxy@head, "
    "gxy@+1, gxy@-1, REV-1, base or 22.01"
)


def valid_forms(graph: RevisionGraph) -> str:
    """VALID_FORMS with a release tag of this code as the example (the sample's 25.0 is not every code's)."""
    if not graph.release_tags:
        return VALID_FORMS
    tag = release_back(graph, 1)
    return VALID_FORMS.replace("(25.0 or release_25.0)", f"({tag} or release_{tag})")


@dataclass(frozen=True)
class Target:
    """A resolved destination: the gxy revision (None = base) and whether tsi goes to its head."""

    text: str
    gxy: str | None  # None means base: no gxy revision at all
    include_tsi_head: bool = False
    touches_gxy: bool = True
    tsi_base: bool = False

    @property
    def is_base(self) -> bool:
        return self.touches_gxy and self.gxy is None


def resolve_target(text: str, graph: RevisionGraph, current: tuple[str, ...] = ()) -> Target:
    """Turn what the user typed into a concrete revision, or one line listing what is valid."""
    raw = (text or "").strip()
    if not raw:
        raise UsageError(f"no target given: use one of {valid_forms(graph)}")
    lowered = raw.lower()
    gxy_head = graph.heads("gxy")
    if lowered in ("head", "heads"):
        return Target(raw, _single(gxy_head, "gxy"), include_tsi_head=True)
    if lowered in ("gxy@head",):
        return Target(raw, _single(gxy_head, "gxy"))
    if lowered == "tsi@head":
        return Target(raw, None, include_tsi_head=True, touches_gxy=False)
    if lowered in ("base", "gxy@base", "22.01", "release_22.01"):
        return Target(raw, None, tsi_base=lowered in ("base", "22.01", "release_22.01"))
    tagged = graph.tag_revision(lowered)
    if tagged is not None:
        return Target(raw, None if tagged == "base" else tagged, tsi_base=tagged == "base")
    relative = RELATIVE.match(raw)
    if relative:
        return _relative(raw, relative, graph, current)
    if re.fullmatch(r"(release_)?\d+\.\d+", lowered) and graph.release_tags:
        tags = sorted(graph.release_tags, key=release_key)
        raise UsageError(
            f"{raw!r} is not a target: this Galaxy code's release tags go from {tags[0]} to {tags[-1]}; "
            f"use one of {valid_forms(graph)}"
        )
    if not re.fullmatch(r"[0-9a-fA-F]+", raw):
        raise UsageError(f"{raw!r} is not a target: use one of {valid_forms(graph)}")
    revision = graph.resolve(lowered)
    if revision.branch == "tsi":
        return Target(raw, None, include_tsi_head=True, touches_gxy=False)
    return Target(raw, revision.id)


def _single(heads: list[str], branch: str) -> str:
    if len(heads) != 1:
        raise SeeCommand(
            f"the {branch} branch has {len(heads)} heads ({', '.join(heads)}) in this code: merge them first",
            "troubleshoot",
        )
    return heads[0]


def _relative(raw: str, match: re.Match, graph: RevisionGraph, current: tuple[str, ...]) -> Target:
    anchor, rev, step = match.group("anchor"), match.group("rev"), int(match.group("step"))
    if anchor and anchor.lower() != "gxy":
        raise UsageError(f"relative steps are only supported on the gxy branch, not {anchor!r}: use gxy@{step:+d}")
    if rev:
        start = graph.resolve(rev.lower()).id
    else:
        gxy_rows = [rid for rid in current if graph.branch_of(rid) == "gxy"]
        if len(gxy_rows) != 1:
            raise UsageError(
                f"{raw!r} counts from the current gxy revision, but the database has "
                f"{len(gxy_rows)} ({', '.join(gxy_rows) or 'none'}): name a revision instead"
            )
        start = gxy_rows[0]
    return Target(raw, _walk(graph, start, step, raw))


def _walk(graph: RevisionGraph, start: str, step: int, raw: str) -> str | None:
    position: str | None = start
    for _ in range(abs(step)):
        if position is None:
            raise UsageError(f"{raw!r} goes below base: use base")
        revision = graph.revisions[position]
        following = graph.children.get(position, []) if step > 0 else list(revision.parents)
        if step < 0 and not following:
            position = None
            continue
        if len(following) != 1:
            word = "children" if step > 0 else "parents"
            if not following:
                raise UsageError(f"{raw!r} goes past the head {position}: use head")
            raise UsageError(
                f"{raw!r} crosses {position}, which has {len(following)} {word} "
                f"({', '.join(following)}): name the revision you want instead"
            )
        position = following[0]
    return position


def expected_rows(target: Target, graph: RevisionGraph, current: tuple[str, ...], upgrading: bool) -> set[str]:
    """The alembic_version rows a database must hold once it has reached ``target``."""
    gxy_now = [rid for rid in current if graph.branch_of(rid) == "gxy"]
    tsi_now = [rid for rid in current if graph.branch_of(rid) == "tsi"]
    if not target.touches_gxy:
        gxy = set(gxy_now)
    elif target.gxy is None:
        gxy = set()
    elif upgrading:
        below = graph.ancestors([*gxy_now, target.gxy])
        gxy = {rid for rid in below if not (graph.descendants(rid) & below)}
    else:
        gxy = {target.gxy}
    if target.include_tsi_head:
        tsi = set(graph.heads("tsi"))
    elif target.tsi_base:
        tsi = set()
    else:
        tsi = set(tsi_now)
    return gxy | tsi


def release_back(graph: RevisionGraph, steps: int) -> str:
    """The release tag ``steps`` below the newest one this code has (its own tags, not the sample's).

    The runbooks' demonstrations start there: with galaxy-data 26.1 one step is 26.0, two are 25.1;
    with a 24.2 checkout, 24.1 and 24.0. Fewer tags than that: the oldest (22.01, base).
    """
    tags = sorted(graph.release_tags, key=release_key, reverse=True)
    if not tags:
        raise UsageError("this Galaxy code has no release tags (REVISION_TAGS): name a revision instead")
    return tags[min(steps, len(tags) - 1)]
