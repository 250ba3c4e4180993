"""``not-python``: the file cannot be decoded as UTF-8 or parsed as Python."""

from __future__ import annotations

import ast
from pathlib import Path

from runbooks.code.revision_source import RevisionSource
from runbooks.lint.catalogue import Finding, Rule

RULE = Rule(
    "not-python",
    "error",
    "The file is not Python",
    "The file cannot be decoded as UTF-8 or parsed as Python, so Alembic cannot load it.",
    "Fix the syntax error (the message gives the line), or lint the right file.",
)


def read(path: Path) -> tuple[RevisionSource | None, list[Finding]]:
    """The parsed file, or no source and the finding that says why it is not Python."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [RULE.finding(0, f"the file is not UTF-8 text (byte {error.start}): not a Python file")]
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        return None, [RULE.finding(error.lineno or 0, f"not valid Python: {error.msg}")]
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, absurd nesting
        return None, [RULE.finding(0, f"not valid Python: {error}")]
    return RevisionSource(path, text, tree), []
