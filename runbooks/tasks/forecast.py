"""How long each pending revision will take on this PostgreSQL database, and what it locks.

The cost model (``runbooks/tasks/forecast_model.json``, written by ``bench/calibrate.py`` from the
measurements in ``bench/results/``) gives each revision a fixed time plus a time per GB of
the tables it was seen to lock, and a fixed overhead for the command itself (starting
Galaxy's code, the pre-flight, the read-back). The sizes are the target's own
(``pg_total_relation_size`` from ``pg_class``). A revision the model has never seen is
"unknown", never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.connections import read_only_cursor
from runbooks.database.urls import DatabaseUrl

MODEL = Path(__file__).with_name("forecast_model.json")
GB = 1024**3


@dataclass(frozen=True)
class RevisionForecast:
    revision: str
    seconds: float | None
    locks: tuple[str, ...]  # "table (Mode)"


@dataclass(frozen=True)
class Forecast:
    revisions: list[RevisionForecast]
    overhead_s: float

    @property
    def total_s(self) -> float:
        return self.overhead_s + sum(r.seconds or 0.0 for r in self.revisions)

    @property
    def unknown(self) -> list[str]:
        return [r.revision for r in self.revisions if r.seconds is None]

    def text(self) -> str:
        lines = [f"Forecast (cost model from bench/results, this database's sizes): about {self.total_s:.0f}s in all"]
        for item in self.revisions:
            took = "unknown" if item.seconds is None else f"{item.seconds:.2f}s"
            locks = ", ".join(item.locks) or "no existing table"
            lines.append(f"  {item.revision}  {took:>8}  locks {locks}")
        return "\n".join(lines)


def load_model(path: Path = MODEL) -> dict:
    return json.loads(path.read_text())


TABLES = "FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace"
# Without opening a table (so without waiting for a lock on it): the pages the last VACUUM or
# ANALYZE counted, of the table, its TOAST table and its indexes.
ESTIMATE = """
SELECT c.relname::text, (c.relpages + coalesce((SELECT t.relpages FROM pg_class t WHERE t.oid = c.reltoastrelid), 0)
       + coalesce((SELECT sum(i.relpages) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                   WHERE x.indrelid = c.oid), 0))::bigint * current_setting('block_size')::bigint
"""


def table_bytes(db: DatabaseUrl) -> dict[str, int]:
    """Each of Galaxy's tables' size; a table someone holds locked is estimated from the catalogue."""
    import psycopg2

    with read_only_cursor(db, "galaxy-runbooks-forecast") as cursor:
        try:
            cursor.execute(f"SELECT c.relname::text, pg_total_relation_size(c.oid) {TABLES}")
        except psycopg2.errors.LockNotAvailable:  # the session pre-flight names the holder next
            cursor.execute(ESTIMATE + TABLES)
        return dict(cursor.fetchall())


def forecast(revisions: list[str], sizes: dict[str, int], model: dict) -> Forecast:
    """Per revision: its fixed time + its per-GB time x the GB of the tables it locks."""
    items = []
    for rid in revisions:
        entry = model["revisions"].get(rid)
        if entry is None:
            items.append(RevisionForecast(rid, None, ()))
            continue
        gigabytes = sum(sizes.get(table, 0) for table in entry["tables"]) / GB
        seconds = entry["fixed_s"] + entry["per_gb_s"] * gigabytes
        items.append(RevisionForecast(rid, seconds, tuple(entry["locks"])))
    return Forecast(items, model["overhead_s"])


def forecast_for(db: DatabaseUrl, revisions: list[str]) -> Forecast | None:
    """The forecast for ``db`` (PostgreSQL); None on SQLite or without a model."""
    if db.is_sqlite or not MODEL.is_file():
        return None
    return forecast(revisions, table_bytes(db), load_model())
