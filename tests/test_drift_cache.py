"""The model comparison is remembered per schema and code: an unchanged schema is answered from the cache,
a changed one (here: a column added by hand) is compared again and the change shows."""

from __future__ import annotations

from runbooks.drift_cache import cache_key, cached_model_drift
from runbooks.paths import cache_dir
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
