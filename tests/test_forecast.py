"""The upgrade forecast: the committed cost model covers the code's revisions, and sizes come from the target."""

from __future__ import annotations

import pytest

from runbooks.database.connections import connect_postgresql
from runbooks.tasks import forecast as forecast_module
from runbooks.tasks.forecast import forecast, forecast_for, load_model

from conftest import postgresql_from_release


def test_every_revision_after_25_0_has_a_forecast_on_a_25_0_database(pg_database, graph, monkeypatch):
    db = postgresql_from_release("25.0.4", pg_database())
    pending = graph.pending(["c716ee82337b"], "gxy")
    predicted = forecast_for(db, pending)
    assert [item.revision for item in predicted.revisions] == pending
    assert predicted.unknown == [], "recalibrate: python bench/calibrate.py"
    model = load_model()
    assert_times_follow(predicted, model, relation_sizes(db))
    # The committed model charges nothing per GB yet (the sizes would not show): one that does,
    # applied to this database, must give times that follow the sizes read here independently.
    per_gb = {**model, "revisions": {rid: {**e, "per_gb_s": 1000.0} for rid, e in model["revisions"].items()}}
    monkeypatch.setattr(forecast_module, "load_model", lambda: per_gb)
    sizes = relation_sizes(db)
    assert any(sizes.get(table) for rid in pending for table in per_gb["revisions"][rid]["tables"])
    assert_times_follow(forecast_for(db, pending), per_gb, sizes)


def assert_times_follow(predicted, model: dict, sizes: dict[str, int]) -> None:
    """Each time is the model's fixed time plus its per-GB time x the GB of the tables it locks."""
    for item in predicted.revisions:
        entry = model["revisions"][item.revision]
        expected = entry["fixed_s"] + entry["per_gb_s"] * sum(sizes.get(t, 0) for t in entry["tables"]) / 1024**3
        assert item.seconds == pytest.approx(expected, rel=0.05) and item.locks == tuple(entry["locks"])
    total = model["overhead_s"] + sum(item.seconds for item in predicted.revisions)
    assert predicted.text().splitlines()[0].endswith(f"about {total:.0f}s in all")


def relation_sizes(db) -> dict[str, int]:
    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT tablename, pg_total_relation_size(quote_ident(tablename)) FROM pg_tables "
                "WHERE schemaname = 'public'"
            )
            return dict(cursor.fetchall())
    finally:
        conn.close()


def test_a_revision_the_model_never_saw_is_unknown_not_guessed():
    predicted = forecast(["0123456789ab"], {}, load_model())
    assert predicted.unknown == ["0123456789ab"] and "unknown" in predicted.text()


def test_the_time_grows_with_the_size_of_the_tables_a_revision_locks():
    model = {"overhead_s": 1.0, "revisions": {"r1": {"fixed_s": 0.5, "per_gb_s": 2.0, "tables": ["job"], "locks": []}}}
    small = forecast(["r1"], {"job": 0}, model)
    large = forecast(["r1"], {"job": 10 * 1024**3, "dataset": 99 * 1024**3}, model)
    assert (small.total_s, large.total_s) == (1.5, 21.5)
