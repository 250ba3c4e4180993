"""``missing-downgrade``: the revision has no ``downgrade()``."""

from __future__ import annotations

from collections.abc import Iterator

from runbooks.lint.catalogue import Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "missing-downgrade",
    "error",
    "No `downgrade()` function",
    "Alembic looks up `module.downgrade` of every revision a downgrade crosses before it "
    "runs any of them: without the function, every downgrade across this revision fails "
    "with an AttributeError.",
    "Add `def downgrade():` that undoes `upgrade()`; if the change cannot be undone, let it "
    "`pass` with a comment saying the revision is one-way and why.",
)


def check(review: Review) -> Iterator[Finding]:
    if "downgrade" not in review.source.functions:
        yield RULE.finding(1, "the revision has no downgrade() function")
