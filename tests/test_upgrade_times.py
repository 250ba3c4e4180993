"""The upgrade-time page: it renders every committed scale measurement, and they back what it claims."""

from __future__ import annotations

import json

from docs_build.generated.upgrade_times import RESULTS, _runs, upgrade_times
from runbooks.tasks.forecast import load_model


def test_the_page_shows_every_committed_scale_with_its_ratios():
    page, runs = upgrade_times(), _runs()
    assert len(runs) >= 3
    for run in runs:
        assert f"| {run['scale']} | {run['generator']['jobs']:,} | {run['generator']['rows']['dataset']:,} |" in page
        assert f"| {run['ratios']['ours_to_galaxy']:.2f} |" in page
        assert f"| {run['ratios']['rehearsal_to_upgrade']:.2f} |" in page


def test_the_largest_committed_scale_is_production_sized():
    largest = max(_runs(), key=lambda run: run["generator"]["jobs"])
    assert largest["generator"]["jobs"] >= 10_000_000
    assert largest["generator"]["rows"]["dataset"] >= 20_000_000


def test_the_forecast_was_checked_on_a_scale_it_was_not_fitted_on():
    check = json.loads((RESULTS / "forecast_check.json").read_text())
    assert check["held_out"] not in load_model()["calibrated_on"]
    assert f"checked on **{check['held_out']}**" in upgrade_times()


def test_charts_are_inline_svg_in_the_page_colours_and_the_same_every_build():
    """Each chart is drawn from the committed results into the page: text and axes in currentColor
    on a transparent background (so the dark scheme reads it), nothing fetched, the same bytes twice."""
    from docs_build.generated.charts import INK, SNIPPETS

    largest = max(_runs(), key=lambda run: run["generator"]["jobs"])
    for name, chart in SNIPPETS.items():
        figure = chart()
        assert figure.startswith('<figure class="chart"') and "<svg" in figure, name
        assert figure == chart(), f"{name} differs from one build to the next"
        assert "currentColor" in figure and INK not in figure, name
        assert "#ffffff" not in figure.lower() and "fill: white" not in figure, name
        assert 'href="http' not in figure and "<image" not in figure, name
        assert "\n\n" not in figure, f"{name}: a blank line would end Markdown's HTML block"
    assert f"{largest['generator']['jobs']:,} jobs" in SNIPPETS["chart-revision-time"]()
    assert all(rev["revision"] in SNIPPETS["chart-revision-time"]() for rev in largest["galaxy"]["revisions"])
