"""Galaxy's revision graph and release tags, read from the files without importing them.

Alembic's ``ScriptDirectory`` imports every revision module, and Galaxy's revisions
import ``galaxy.model`` (seconds). Status only needs ids, parents, labels and
messages, which are plain literals in each file, so ``ast`` reads them directly.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from graphlib import TopologicalSorter
from pathlib import Path

from runbooks.code.environment import BRANCHES, GalaxyEnv
from runbooks.code.revision_source import RevisionSource
from runbooks.errors import SeeCommand, UsageError


@dataclass(frozen=True)
class Revision:
    id: str
    parents: tuple[str, ...]
    branch: str
    message: str
    path: Path
    branch_labels: tuple[str, ...] = ()

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def is_base(self) -> bool:
        return not self.parents


def as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def read_revision(path: Path, branch: str) -> Revision | None:
    """One revision file, or None when the file is not a revision (no ``revision = ...``)."""
    source = RevisionSource.read(path)
    revision_id, _ = source.literal("revision")
    if not revision_id:
        return None
    docstring = ast.get_docstring(source.tree) or ""
    message = docstring.strip().splitlines()[0].strip() if docstring.strip() else ""
    return Revision(
        id=revision_id,
        parents=as_tuple(source.literal("down_revision")[0]),
        branch=branch,
        message=message,
        path=path,
        branch_labels=as_tuple(source.literal("branch_labels")[0]),
    )


def _graph_member(path: Path, branch: str) -> Revision | None:
    """``read_revision``, but a file Alembic could not load either is one clear line naming it."""
    try:
        return read_revision(path, branch)
    except (SyntaxError, UnicodeDecodeError, ValueError) as error:
        why = f"line {error.lineno}: {error.msg}" if isinstance(error, SyntaxError) else str(error)
        raise UsageError(
            f"{path} is not a valid revision file ({why}): fix or remove it; Galaxy's own "
            "db_dev.sh and manage_db.sh fail on it too"
        ) from None


def read_release_tags(path: Path | None) -> dict[str, str]:
    """``REVISION_TAGS`` in file order (oldest first), ``release_X`` aliases dropped.

    26.0 on keep them in dbrevisions.py; 23.0-25.1 in dbscript.py, next to the aliases;
    a release without the file (or without tags in dbscript.py) has none.
    """
    if path is None:
        return {}
    tags, _ = RevisionSource.read(path).literal("REVISION_TAGS")
    if path.name == "dbscript.py" and tags is None:
        return {}
    if not isinstance(tags, dict):
        raise UsageError(f"{path} has no REVISION_TAGS dictionary: is this a Galaxy migrations directory?")
    return {tag: rev for tag, rev in tags.items() if not str(tag).startswith("release_")}


def release_key(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.split("."))


@dataclass
class RevisionGraph:
    """Every revision of both branches, keyed by id, with release tags."""

    revisions: dict[str, Revision]
    release_tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, env: GalaxyEnv) -> RevisionGraph:
        revisions: dict[str, Revision] = {}
        for branch in BRANCHES:
            for path in sorted(env.versions_dir(branch).glob("*.py")):
                revision = _graph_member(path, branch)
                if revision:
                    revisions[revision.id] = revision
        return cls(revisions, read_release_tags(env.release_tags_file))

    # -- shape ------------------------------------------------------------------

    @cached_property
    def children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {rev_id: [] for rev_id in self.revisions}
        for revision in self.revisions.values():
            for parent in revision.parents:
                children.setdefault(parent, []).append(revision.id)
        return children

    def heads(self, branch: str | None = None) -> list[str]:
        return sorted(
            rev.id
            for rev in self.revisions.values()
            if not self.children.get(rev.id) and (branch is None or rev.branch == branch)
        )

    def bases(self, branch: str | None = None) -> list[str]:
        return sorted(rev.id for rev in self.revisions.values() if rev.is_base and branch in (None, rev.branch))

    def merges(self, branch: str | None = None) -> list[str]:
        return [rev_id for rev_id in self.in_order(branch) if self.revisions[rev_id].is_merge]

    def branch_of(self, rev_id: str) -> str | None:
        revision = self.revisions.get(rev_id)
        return revision.branch if revision else None

    def ancestors(self, rev_ids: Iterable[str]) -> set[str]:
        """The given revisions and everything below them."""
        seen: set[str] = set()
        stack = [rev_id for rev_id in rev_ids if rev_id in self.revisions]
        while stack:
            rev_id = stack.pop()
            if rev_id in seen:
                continue
            seen.add(rev_id)
            stack.extend(p for p in self.revisions[rev_id].parents if p in self.revisions)
        return seen

    def descendants(self, rev_id: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.children.get(rev_id, []))
        while stack:
            child = stack.pop()
            if child not in seen:
                seen.add(child)
                stack.extend(self.children.get(child, []))
        return seen

    @cached_property
    def _order(self) -> list[str]:
        # Ties broken by id, so the order is stable across runs.
        sorter = TopologicalSorter({rid: [p for p in r.parents] for rid, r in sorted(self.revisions.items())})
        return list(sorter.static_order())

    def in_order(self, branch: str | None = None, among: set[str] | None = None) -> list[str]:
        """Revisions oldest first (an order an upgrade may apply them in)."""
        return [
            rid
            for rid in self._order
            if (branch is None or self.revisions[rid].branch == branch) and (among is None or rid in among)
        ]

    # -- questions about a database -------------------------------------------

    def pending(self, current: Iterable[str], branch: str) -> list[str]:
        """Revisions an upgrade to the branch head would run, in order."""
        todo = self.ancestors(self.heads(branch)) - self.ancestors(current)
        return self.in_order(branch, todo)

    def resolve(self, prefix: str) -> Revision:
        """A full id or a unique prefix."""
        if prefix in self.revisions:
            return self.revisions[prefix]
        matches = sorted(rid for rid in self.revisions if rid.startswith(prefix))
        if len(matches) == 1:
            return self.revisions[matches[0]]
        if matches:
            shown = ", ".join(matches[:6]) + (f" and {len(matches) - 6} more" if len(matches) > 6 else "")
            raise UsageError(f"revision prefix {prefix!r} is ambiguous: it matches {shown}; type more characters")
        raise SeeCommand(f"no revision {prefix!r} in this Galaxy code", "status", " for its ids")

    def tag_revision(self, tag: str) -> str | None:
        """The revision a release tag (``25.0`` or ``release_25.0``) names; ``base`` for 22.01."""
        return self.release_tags.get(tag.removeprefix("release_"))

    def release_label(self, current: Iterable[str]) -> str | None:
        """Newest release tag at or below ``current``, plus ``+N`` for N revisions past it."""
        current = [rid for rid in current if self.branch_of(rid) == "gxy"]
        if not current:
            return None
        below = self.ancestors(current)
        candidates = [tag for tag, rev_id in self.release_tags.items() if rev_id == "base" or rev_id in below]
        if not candidates:
            return None
        tag = max(candidates, key=release_key)
        tag_rev = self.release_tags[tag]
        past = len(below - (set() if tag_rev == "base" else self.ancestors([tag_rev])))
        return tag if past == 0 else f"{tag}+{past}"

    def tags_by_revision(self) -> dict[str, list[str]]:
        by_revision: dict[str, list[str]] = {}
        for tag, rev_id in self.release_tags.items():
            by_revision.setdefault(rev_id, []).append(tag)
        return by_revision
