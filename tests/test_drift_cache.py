"""The model comparison is remembered per schema and code: an unchanged schema is answered from the cache,
a changed one (here: a column added by hand) is compared again and the change shows."""

from __future__ import annotations

from runbooks.paths import cache_dir
from runbooks.tasks.drift_report_cache import cache_key, cached_model_drift
from runbooks.testing.scratch_states import execute_sql


def test_unchanged_schema_from_cache_changed_schema_compared_again(sqlite_db, env):
    db = sqlite_db("head")
    first = cached_model_drift(db, env)
    stored = cache_dir() / "drift-cache" / f"{cache_key(db, env)}.json"
    assert stored.is_file()
    assert cached_model_drift(db, env).differences == first.differences
    execute_sql(db, ["ALTER TABLE history ADD COLUMN added_by_hand INTEGER"])
    assert cache_key(db, env) != stored.stem
    changed = cached_model_drift(db, env)
    added = [d for d in changed.differences if d.name == "added_by_hand"]
    assert added and added[0].kind == "remove_column" and added[0] not in first.differences


def test_derived_files_go_to_the_cache_folder_when_set_else_the_home(monkeypatch, tmp_path, sqlite_db, env):
    from runbooks.settings import CACHE_ENV, HOME_ENV

    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert cache_dir() == tmp_path / "home"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    db = sqlite_db("head")
    cached_model_drift(db, env)
    assert (tmp_path / "cache" / "drift-cache" / f"{cache_key(db, env)}.json").is_file()
    assert not (tmp_path / "home").exists()
