"""Every finding the doctor's catalogue knows has its section on the troubleshooting page.

A section names its codes in backticks on the line under its heading (``## A separate install
database: ...`` then `` `branch-in-wrong-database`, `install-tables-in-galaxy-database` ``).
"""

from __future__ import annotations

import re

from runbooks.findings.catalogue import CODES
from runbooks.paths import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs" / "tasks" / "troubleshoot.md"
# Codes whose section is still to be written (the test fails when one gets it: take it off the list).
NOT_YET = {"schema-missing-left-by-galaxy"}


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_catalogue_code_has_a_section():
    sections = _sections(PAGE.read_text())
    named = {code for body in sections.values() for code in re.findall(r"`([a-z-]+)`", body.strip().split("\n\n")[0])}
    missing = {code.code for code in CODES} - named
    assert missing == NOT_YET, f"codes without a section on {PAGE.name}: {sorted(missing - NOT_YET)}"


def test_the_install_database_and_search_path_sections_say_what_how_and_the_fix():
    sections = _sections(PAGE.read_text())
    for code in ("branch-in-wrong-database", "install-tables-in-galaxy-database", "search-path-shadows"):
        body = next(body for body in sections.values() if f"`{code}`" in body.strip().split("\n\n")[0])
        for label in ("**What it means.**", "**How it happens.**", "**Fix.**"):
            assert label in body, (code, label)
