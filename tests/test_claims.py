"""Every claim the pages bind to a check holds, without building the site; and a claim whose
check is missing or failing fails the build."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from mkdocs.exceptions import PluginError

from docs_build.checks import claims
from docs_build.checks.snippets import SNIPPETS, claim_counts, coverage_table

PAGES = claims.page_sources()
NAMED = sorted({name for text in PAGES.values() for name in claims.named_checks(text)})


@pytest.mark.parametrize("name", sorted(claims.CHECKS))
def test_check_holds(name):
    """Every sentence bound to the check holds: the values its marker carries are in the sentence and measured."""
    ran = {}
    for page, text in PAGES.items():
        for binding in claims.bindings(text):
            if binding.name == name:
                assert claims.check_binding(binding, ran) is None, page


# (page, text in a bound sentence, the same sentence with a false number or id)
FALSE_EDITS = [
    ("explanation/sqlite-postgresql.md", "38 of the 81 gxy revision files", "40 of the 81 gxy revision files"),
    ("explanation/branches.md", "| 81 files in `alembic/versions_gxy/`", "| 80 files in `alembic/versions_gxy/`"),
    ("explanation/merges.md", "contains 8 of them", "contains 9 of them"),
    ("explanation/sqlalchemy-migrate.md", "version **180**", "version **181**"),
    ("tasks/troubleshoot.md", "longer than its 32 characters", "longer than its 64 characters"),
    ("contributing.md", "21 revisions import it directly", "23 revisions import it directly"),
    ("contributing.md", "legitimate; 11 gxy", "legitimate; 12 gxy"),
]


@pytest.mark.parametrize("page, true, false", FALSE_EDITS, ids=[f"{p}:{f}" for p, _, f in FALSE_EDITS])
def test_a_sentence_edited_to_a_false_number_fails(page, true, false):
    """The sentence alone edited: its marker's value is no longer stated. Sentence and marker
    edited together: the check measures something else. Either way the build fails."""
    from docs_build.site_build import hooks

    text = PAGES[page]
    assert text.count(true) == 1
    edited = text.replace(true, false)
    hooks._checked.clear()
    with pytest.raises(PluginError, match="the sentence does not"):
        hooks.check_claims(page, edited)
    old, new = (re.search(r"(?<![\w.])\d+(?![\w.])", s)[0] for s in (true, false))
    both = [replace(b, values=tuple((k, new if v == old else v) for k, v in b.values)) for b in claims.bindings(edited)]
    both = [b for b in both if b.missing_from_sentence() == [] and any(v == new for _, v in b.values)]
    assert both
    assert all(claims.check_binding(b, {}) for b in both), [b.name for b in both]
    hooks._checked.clear()


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
    page = "Release 22.01 is the base. <!-- check: release_22_01_is_base tag=22.01 -->"
    assert hooks.check_claims("x.md", page) == "Release 22.01 is the base. "


def test_claim_report_counts_the_pages():
    counts = claim_counts()
    assert counts["tasks/troubleshoot.md"]["check"] >= 30 and counts["tasks/troubleshoot.md"]["placeholder"] >= 4
    report = SNIPPETS["claim-report"]()
    total = sum(c["claims"] for c in counts.values())
    assert report.startswith(f"{total} factual sentences")


def test_claims_are_counted_by_sentence_and_placeholders_are_not_bound():
    from docs_build.checks.claim_report import claim_units

    text = (
        "Galaxy runs `upgrade` in one transaction. <!-- check: one_transaction_per_command_run --> The doctor "
        "reads every key. It says which rows point nowhere.\n\n<!-- generated: status-order -->\n\n"
        "Run the upgrade first. On a copy of the database:\n\n| a | b |\n| --- | --- |\n| 1 | 2 |"
    )
    kinds = [k for k, _ in claim_units(text)]
    assert kinds == [
        "check",
        "unbound",
        "unbound",
        "placeholder",
        "instruction",
        "introduction",
        "table header",
        "unbound",
    ], kinds


def test_coverage_table_links_only_to_sections_that_exist(monkeypatch):
    from docs_build.checks import snippets

    assert "tasks/status.md#one-revision-db_devsh-show-rev" in coverage_table()
    monkeypatch.setattr(snippets, "COVERAGE", [("x", [("tasks/status.md", "No such section")])])
    with pytest.raises(ValueError, match="no section 'No such section'"):
        snippets.coverage_table()


def test_release_tags_page_counts_what_an_upgrade_from_the_tag_runs():
    """25.0's tag sits below a merge: an upgrade from it also runs the merge's other parent, so the
    count is the steps Alembic's upgrade takes from the tag to the head, not the tag's descendants."""
    from alembic.script import ScriptDirectory

    from docs_build.checks.claim_registry import _env, _graph
    from docs_build.generated.reference import release_tags_page

    env, graph = _env(), _graph()
    folders = [str(env.versions_dir(branch)) for branch in ("gxy", "tsi")]
    script = ScriptDirectory(str(env.script_location), version_locations=folders)
    page = release_tags_page(graph)
    walked = {}
    for tag in ("25.0", "25.1", "26.0"):
        rev = graph.release_tags[tag]
        walked[tag] = len(script._upgrade_revs("gxy@head", rev))  # the steps `alembic upgrade` runs
        row = next(line for line in page.splitlines() if line.startswith(f"| `{tag}` |"))
        assert row.rstrip(" |").endswith(f"| {walked[tag]}"), (row, walked[tag])
    assert walked["25.0"] == len(graph.descendants(graph.release_tags["25.0"])) + 1  # the side branch's revision


# (page, text in a sentence bound with <!-- shown: RUNBOOK/SECTION -->, the same sentence with a false value)
SHOWN_EDITS = [
    ("runbooks/status.ipynb", "the sample at head shows `26.1+1`", "the sample at head shows `26.1+2`"),
    ("runbooks/status.ipynb", "the sample shows `up-to-date`", "the sample shows `behind`"),
]


@pytest.mark.parametrize("page, true, false", SHOWN_EDITS, ids=[f"{p}:{f}" for p, _, f in SHOWN_EDITS])
def test_a_sentence_about_an_executed_cell_edited_to_a_false_value_fails(page, true, false):
    """The sentence alone edited: the marker's value is no longer stated. Sentence and marker edited
    together: the runbook's executed cells (as the build ran it) do not show the new value."""
    from docs_build.site_build import hooks

    text = PAGES[page]
    assert text.count(true) == 1
    old, new = (re.search(r"`([^`]+)`", s)[1] for s in (true, false))
    edited = text.replace(true, false)
    hooks._checked.clear()
    with pytest.raises(PluginError, match="the sentence does not"):
        hooks.check_claims(page, edited)
    both = [
        replace(b, values=tuple((k, new if v == old else v) for k, v in b.values))
        for b in claims.shown_bindings(edited)
    ]
    both = [b for b in both if any(v == new for _, v in b.values)]
    assert both and all(b.missing_from_sentence() == [] for b in both)
    assert all("the executed cells do not show" in claims.check_binding(b, {}) for b in both)
    hooks._checked.clear()


def test_shown_markers_hold_and_count_as_executed():
    from docs_build.checks.claim_report import claim_units

    ran = {}
    for page, text in PAGES.items():
        for binding in claims.shown_bindings(text):
            assert claims.check_binding(binding, ran) is None, page
    units = claim_units("The sample is `up-to-date`. <!-- shown: status/step-2 state=up-to-date --> It reads rows.")
    assert [k for k, _ in units] == ["executed", "unbound"]
    problem = claims.check_binding(claims.shown_bindings("It is `ok`. <!-- shown: status/step-9 state=ok -->")[0], {})
    assert "the runbook has no section 'step-9'" in problem
