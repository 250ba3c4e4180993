"""Every claim the pages bind to a check holds, without building the site; and a claim whose
check is missing or failing fails the build."""

from __future__ import annotations

import pytest
from mkdocs.exceptions import PluginError

from docs_build.checks import claims
from docs_build.checks.snippets import SNIPPETS, claim_counts, coverage_table

NAMED = sorted({name for text in claims.page_sources().values() for name in claims.named_checks(text)})


@pytest.mark.parametrize("name", sorted(claims.CHECKS))
def test_check_holds(name):
    assert claims.run_check(name) is None


def test_every_named_check_exists_and_every_check_is_used():
    assert set(NAMED) <= set(claims.CHECKS), set(NAMED) - set(claims.CHECKS)
    assert set(claims.CHECKS) - set(NAMED) == set()


def test_a_missing_or_failing_check_fails_the_build(monkeypatch):
    from docs_build.site_build import hooks

    hooks._checked.clear()
    with pytest.raises(PluginError, match="no check named 'no_such_check'"):
        hooks.check_claims("x.md", "Galaxy does X. <!-- check: no_such_check -->")

    def wrong():
        raise AssertionError("Galaxy does not do X")

    monkeypatch.setitem(claims.CHECKS, "wrong_claim", wrong)
    with pytest.raises(PluginError, match="Galaxy does not do X"):
        hooks.check_claims("x.md", "Galaxy does X. <!-- check: wrong_claim -->")
    hooks._checked.clear()


def test_markers_are_removed_from_the_page():
    from docs_build.site_build import hooks

    hooks._checked.clear()
    page = "SQLite ends at the base. <!-- check: release_22_01_is_base -->"
    assert hooks.check_claims("x.md", page) == "SQLite ends at the base. "


def test_claim_report_counts_the_pages():
    counts = claim_counts()
    assert counts["tasks/troubleshoot.md"]["check"] >= 5 and counts["tasks/troubleshoot.md"]["generated"] >= 4
    report = SNIPPETS["claim-report"]()
    total = sum(c["claims"] for c in counts.values())
    assert report.startswith(f"{total} claim units found")


def test_coverage_table_links_only_to_sections_that_exist(monkeypatch):
    from docs_build.checks import snippets

    assert "tasks/status.md#one-revision-db_devsh-show-rev" in coverage_table()
    monkeypatch.setattr(snippets, "COVERAGE", [("x", [("tasks/status.md", "No such section")])])
    with pytest.raises(ValueError, match="no section 'No such section'"):
        snippets.coverage_table()
