"""Galaxy issue 22370 (open): "current dev DB version cannot downgrade to release_25.1" — after
`manage_db.sh downgrade release_25.1` from dev, 25.1 fails on `column job.params does not exist`.

Made the way the reporter's database came to be: Galaxy 26.1.2's own initialization (the installed
galaxy-data), then Galaxy's own `downgrade release_25.1` (DbScript, as manage_db.sh runs it). The
downgrade crosses the merges 75b461a2b24a and 98621a25ab75 and leaves the 26.0-only revisions
a5c5455b849a, 1d1d7bf6ac02, 724237cc4cf0 applied: two gxy rows, job.params not re-added.
"""

from __future__ import annotations

import sqlite3

from runbooks.doctor import diagnose
from runbooks.galaxy.commands import run_dbscript
from runbooks.tasks.migrate import read_rows

REPORT = "https://github.com/galaxyproject/galaxy/issues/22370"
GALAXY_SAID = "column job.params does not exist (on 25.1, after `manage_db.sh downgrade release_25.1` from dev)"
DOCTOR_CODE = "multiple-current-revisions"


def _has_params(db) -> bool:
    with sqlite3.connect(db.sqlite_path) as conn:
        return any(row[1] == "params" for row in conn.execute("PRAGMA table_info(job)"))


def test_replay_22370(sqlite_db, graph):
    db = sqlite_db("head")
    run_dbscript(db, "downgrade", revision="release_25.1")  # what the reporter typed
    assert set(read_rows(db)) == {"63dc6cca023f", "d4a650f47a3c", "724237cc4cf0"}
    assert not _has_params(db)  # Galaxy's symptom, replayed
    report = diagnose(db, graph, rehearse=False)
    item = report.get(DOCTOR_CODE)
    assert item is not None and "63dc6cca023f" in item.summary and "724237cc4cf0" in item.summary, report.text()
    # The fix: down to the common ancestor of both lines (re-adds job.params), then up to 25.1's head.
    run_dbscript(db, "downgrade", revision="cd26484899fb")
    run_dbscript(db, "upgrade", revision="63dc6cca023f")
    assert set(read_rows(db)) == {"63dc6cca023f", "d4a650f47a3c"} and _has_params(db)
    assert DOCTOR_CODE not in diagnose(db, graph, rehearse=False).codes
