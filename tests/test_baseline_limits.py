"""A baseline the code in use cannot make is a limit of the drift check, not the database's fault (issue 22, 2)."""

from __future__ import annotations

from runbooks.doctor import diagnose
from runbooks.errors import GalaxyCommandFailed
from runbooks.tasks import baseline


def test_a_baseline_the_code_cannot_make_skips_the_check_with_its_reason(sqlite_db, graph, tmp_path, monkeypatch):
    def cannot(*_):
        raise GalaxyCommandFailed("OperationalError", "no such table: job\n[SQL: ...]")

    monkeypatch.setattr(baseline, "cache_file", lambda graph, dialect: tmp_path / "not-made.json")
    monkeypatch.setattr(baseline, "make_baseline", cannot)
    report = diagnose(sqlite_db("head"), graph, drift=True, rehearse=False)
    assert not report.has_errors, report.text()
    (skipped,) = [s for s in report.skipped if s["check"] == "schema-drift"]
    assert "could not make it: OperationalError: no such table: job" in skipped["why"]
    assert skipped["enable"] == "a limit of this check, not a fault of the database"
    assert not (tmp_path / "not-made.json").exists()
