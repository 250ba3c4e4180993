"""Claims of the upgrade-time page about how the measurements were made, checked against the
committed results (``bench/results/scale_*.json``) and the benchmark's own code."""

from __future__ import annotations

import json

from docs_build.checks.claim_registry import _graph, check
from runbooks.paths import PROJECT_ROOT

BENCH = PROJECT_ROOT / "bench"


def _results() -> dict:
    return {s: json.loads((BENCH / "results" / f"scale_{s}.json").read_text()) for s in ("small", "medium", "large")}


@check
def scale_databases_are_release_schema_filled_by_copy(release, jobs, datasets):
    """25.0.4's own PostgreSQL schema, filled through COPY, up to ``jobs`` and ``datasets`` million rows."""
    scale = (BENCH / "scale.py").read_text(encoding="utf-8")
    assert f"galaxy-data-{release}.postgresql.sql.gz" in scale and "COPY" in scale
    results = _results()
    assert max(r["generator"]["jobs"] for r in results.values()) == jobs * 10**6
    largest = max(results.values(), key=lambda r: r["generator"]["jobs"])["table_sizes"]
    assert round(largest["job"]["rows"] / 10**6) == jobs and round(largest["dataset"]["rows"] / 10**6) == datasets
    assert "parameters_per_job" in (BENCH / "scale_data.py").read_text(encoding="utf-8")


@check
def largest_scale_has_fewer_untouched_rows_per_job():
    """The large scale has no parameter or metric rows per job, the smaller ones have some, and no
    revision of the upgrade from 25.0 names those tables."""
    results = _results()
    for key in ("parameters_per_job", "numeric_metrics_per_job", "text_metrics_per_job"):
        assert results["large"]["generator"]["proportions"][key] < results["small"]["generator"]["proportions"][key]
    graph = _graph()
    runs = graph.ancestors(graph.heads("gxy")) - graph.ancestors([graph.release_tags["25.0"]])
    texts = [graph.revisions[rev].path.read_text(encoding="utf-8") for rev in runs]
    assert not any(
        name in text for text in texts for name in ("job_parameter", "job_metric_numeric", "job_metric_text")
    )


@check
def upgrades_ran_on_template_copies_in_turns():
    measure = (BENCH / "measure_scale.py").read_text(encoding="utf-8")
    assert 'CREATE DATABASE "{name}" TEMPLATE "{base}"' in measure and "medians are reported" in measure
    for result in _results().values():
        assert result["machine"].endswith("shared with other work; 3 turn(s) each, medians"), result["machine"]
        assert len(result["ours"]["walls_s"]) == 3
