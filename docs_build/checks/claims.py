"""Claims bound to checks: ``<!-- check: NAME -->`` after a sentence names a check function.

Each check is a small function (pytest-alembic style) asserting one fact against the installed
Galaxy code, Alembic, or an experiment with Galaxy's own scripts (``docs_build/checks/experiments.py``):
``docs_build/checks/claims_behaviour.py`` and ``docs_build/checks/claims_code.py`` define them. The docs hook
runs the checks each page names and fails the build when one is missing or fails;
``tests/test_claims.py`` runs them all without building the site.
"""

from __future__ import annotations

import json
import re

from docs_build.checks import claims_behaviour, claims_code, claims_pages, claims_topics  # noqa: F401  (they register the checks)
from docs_build.checks.claim_registry import CHECKS
from runbooks.paths import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
NOTEBOOKS = PROJECT_ROOT / "notebooks"
CHECK_MARKER = re.compile(r"<!-- check: ([a-z0-9_]+) -->")
GENERATED_MARKER = re.compile(r"<!-- generated: ([a-z0-9-]+) -->")

__all__ = ["CHECKS", "CHECK_MARKER", "DOCS", "GENERATED_MARKER", "named_checks", "page_sources", "run_check"]


# -- reading the pages ------------------------------------------------------------------------------


def page_sources() -> dict[str, str]:
    """Every hand-written page (``docs/**.md``) and runbook (markdown cells), by name."""
    found = {str(p.relative_to(DOCS)): p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md"))}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        found[f"runbooks/{path.name}"] = "\n\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
        )
    return found


def named_checks(text: str) -> list[str]:
    return CHECK_MARKER.findall(text)


def run_check(name: str) -> str | None:
    """None when the check passes, else why not (a missing check fails too)."""
    func = CHECKS.get(name)
    if func is None:
        return f"no check named {name!r} in docs_build/checks/claims.py"
    try:
        func()
    except Exception as error:  # an assertion or a broken check: the claim is not shown true
        return f"{name} failed: {error.__class__.__name__}: {error}"[:500]
    return None
