"""A runbook's parameters: the names and defaults of its ``parameters`` cell, and typed values for them.

``run TASK -p NAME VALUE`` accepts only names the notebook declares and converts each value to
the type of its default, so nothing a user types reaches the kernel as code or as the wrong type
(``-p confirm False`` must never be the truthy string ``"False"``).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from runbooks.errors import UsageError

TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")


def declared_parameters(notebook: Path) -> dict[str, object]:
    """``{name: default}`` from the cell tagged ``parameters`` (literal assignments only)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    source = next(
        ("".join(cell["source"]) for cell in cells if "parameters" in cell.get("metadata", {}).get("tags", [])), ""
    )
    declared = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            declared[node.targets[0].id] = ast.literal_eval(node.value)
    return declared


def typed_value(name: str, text: str, default: object) -> object:
    """``text`` as the type of ``default``; a value that does not fit is a one-line error."""
    if isinstance(default, bool):
        word = text.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise UsageError(f"parameter {name} takes true or false (yes/no, 1/0), not {text!r}")
    if isinstance(default, int | float):
        kind = type(default)
        try:
            return kind(text)
        except ValueError:
            raise UsageError(
                f"parameter {name} takes {'a whole number' if kind is int else 'a number'}, not {text!r}"
            ) from None
    return text


def typed_parameters(task: str, notebook: Path, given: list[tuple[str, str]]) -> dict[str, object]:
    declared = declared_parameters(notebook)
    values = {}
    for name, text in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise UsageError(f"runbook {task} has no parameter {name!r}; its parameters: {known}")
        values[name] = typed_value(name, text, declared[name])
    return values
