"""``downgrade-only-passes``: ``downgrade()`` does nothing and nothing says the revision is one-way."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from runbooks.code.syntax import is_only_pass
from runbooks.lint.catalogue import Finding, Rule
from runbooks.lint.review import Review

RULE = Rule(
    "downgrade-only-passes",
    "warning",
    "`downgrade()` only passes, without saying why",
    "A downgrade that silently does nothing moves `alembic_version` down while the schema "
    "stays at the newer state, so the next upgrade can fail on objects that already exist.",
    "Undo the upgrade, or keep `pass` and say so in a comment or docstring, as Galaxy does: "
    '`# No need to downgrade, this is a one-way migration.` (e93c5d0b47a9) or `"""This '
    'revision is a fix for the previous migration, so no downgrade is necessary."""` '
    "(c716ee82337b).",
)

ONE_WAY_WORDING = re.compile(
    r"one[- ]way|irreversib|not reversible|cannot be (?:undone|reversed)|can'?t be (?:undone|reversed)"
    r"|no downgrade|no need to downgrade|nothing to (?:downgrade|undo)|intentional|not (?:necessary|needed)",
    re.IGNORECASE,
)


def check(review: Review) -> Iterator[Finding]:
    source = review.source
    downgrade = source.functions.get("downgrade")
    upgrade = source.functions.get("upgrade")
    if downgrade is None or not is_only_pass(downgrade.body) or upgrade is None or is_only_pass(upgrade.body):
        return  # no downgrade at all (missing-downgrade), or a merge or base revision that does nothing either way
    said = [ast.get_docstring(downgrade) or "", ast.get_docstring(source.tree) or ""]
    comments = source.comments
    first = min([downgrade.lineno, *(d.lineno for d in downgrade.decorator_list)])
    said.extend(text for line, text in comments.items() if first <= line <= (downgrade.end_lineno or first))
    line = first - 1
    while line in comments:  # the comment block right above `def downgrade`
        said.append(comments[line])
        line -= 1
    if not any(ONE_WAY_WORDING.search(text) for text in said):
        yield RULE.finding(
            downgrade.lineno,
            "downgrade() only passes although upgrade() changes the database, and nothing says the revision is one-way",
        )
