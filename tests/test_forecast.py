"""The upgrade forecast: the committed cost model covers the code's revisions, and sizes come from the target."""

from __future__ import annotations

from runbooks.tasks.forecast import forecast, forecast_for, load_model

from conftest import postgresql_from_release


def test_every_revision_after_25_0_has_a_forecast_on_a_25_0_database(pg_database, graph):
    db = postgresql_from_release("25.0.4", pg_database())
    pending = graph.pending(["c716ee82337b"], "gxy")
    predicted = forecast_for(db, pending)
    assert [item.revision for item in predicted.revisions] == pending
    assert predicted.unknown == [], "recalibrate: python bench/calibrate.py"
    assert f"about {predicted.total_s:.0f}s in all" in predicted.text()


def test_a_revision_the_model_never_saw_is_unknown_not_guessed():
    predicted = forecast(["0123456789ab"], {}, load_model())
    assert predicted.unknown == ["0123456789ab"] and "unknown" in predicted.text()


def test_the_time_grows_with_the_size_of_the_tables_a_revision_locks():
    model = {"overhead_s": 1.0, "revisions": {"r1": {"fixed_s": 0.5, "per_gb_s": 2.0, "tables": ["job"], "locks": []}}}
    small = forecast(["r1"], {"job": 0}, model)
    large = forecast(["r1"], {"job": 10 * 1024**3, "dataset": 99 * 1024**3}, model)
    assert (small.total_s, large.total_s) == (1.5, 21.5)
