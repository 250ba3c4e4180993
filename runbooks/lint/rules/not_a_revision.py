"""``not-a-revision``: no module-level ``revision`` / ``down_revision`` literal."""

from __future__ import annotations

from collections.abc import Iterator

from runbooks.code.revision_source import RevisionSource
from runbooks.lint.catalogue import Finding, Rule

RULE = Rule(
    "not-a-revision",
    "error",
    "The file is not an Alembic revision",
    "A revision module assigns `revision` (a string) and `down_revision` at module level; "
    "without them Alembic does not see the file as a revision.",
    "Create revisions from Galaxy's template (`python -m runbooks create -m MESSAGE` or "
    "`sh manage_db.sh revision -m MESSAGE`) rather than by hand.",
)


def check(source: RevisionSource) -> Iterator[Finding]:
    revision, revision_line = source.literal("revision")
    _, down_line = source.literal("down_revision")
    if not isinstance(revision, str) or not revision or not down_line:
        missing = "revision" if not isinstance(revision, str) or not revision else "down_revision"
        yield RULE.finding(revision_line, f"no module-level `{missing} = ...` literal")
