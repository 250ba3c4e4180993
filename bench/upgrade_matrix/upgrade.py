"""The project's upgrade, as a user runs it, timed revision by revision as its progress arrives."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

from bench.upgrade_matrix import PROJECT
from runbooks.database.scratch import run_statements
from runbooks.database.urls import DatabaseUrl
from runbooks.settings import DB_URL_ENV

# "  [   7.4s] Running upgrade c39f1de47a04 -> d0583094c8cd, add quota source labels"
PROGRESS = re.compile(r"\[\s*[\d.]+s\] Running (?:upgrade|downgrade) .*?-> ([0-9a-f]+)")


def run_cli(*args: str) -> tuple[int, str, list[tuple[float, str]]]:
    """Exit code, stdout, and stderr's lines each with the moment it arrived."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runbooks", *args],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONUNBUFFERED": "1", **_environ()},
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(process.stdout.read()))
    reader.start()
    lines = [(time.monotonic(), line.rstrip("\n")) for line in process.stderr]
    reader.join()
    return process.wait(), "".join(out), lines + [(time.monotonic(), "(exit)")]


def _environ() -> dict:
    return {k: v for k, v in os.environ.items() if k != DB_URL_ENV}


def revision_seconds(lines: list[tuple[float, str]]) -> dict[str, float]:
    """Each revision's time: from its progress line to the next one. The last revision of a run is not
    timed: what follows it is the end of Galaxy's command and the tool's read-back (or the error)."""
    started = [(arrived, found.group(1)) for arrived, line in lines if (found := PROGRESS.search(line))]
    pairs = zip(started, started[1:], strict=False)
    return {revision: round(following - arrived, 3) for (arrived, revision), (following, _) in pairs}


def upgrade(db: DatabaseUrl) -> dict:
    """One run of ``upgrade --json`` to head: what it reported, and the time of each revision."""
    code, stdout, lines = run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup", "--json")
    try:
        report = json.loads(stdout)
    except ValueError:
        last = [line for _, line in lines if line.strip()][-2:]
        return {"reached": False, "exit": code, "refused": " ".join(last)}
    outcome = report.get("outcome") or {}
    run = {
        "exit": code,
        "reached": bool(report.get("succeeded")),
        "pending": len(report["plan"]["revisions"]),
        "alembic_version": sorted(outcome.get("alembic_version", [])),
        "expected": sorted(report["plan"]["expected"]),
        "seconds": revision_seconds(lines),
    }
    if not run["reached"]:
        diagnosis = report.get("diagnosis") or {}
        run |= {
            "stopped_at": (outcome.get("stopped_at") or "").removeprefix("upgrade "),
            "error": (outcome.get("errors") or ["(none: the version table fell short)"])[0],
            "way_out": diagnosis.get("fix"),
            "way_out_statements": diagnosis.get("statements", []),
        }
    return run


def upgrade_with_way_out(db: DatabaseUrl, tries: int = 3) -> list[dict]:
    """Upgrade; after a stop, apply the way out the tool printed (its proven statements) and upgrade again."""
    runs = [upgrade(db)]
    while not runs[-1]["reached"] and runs[-1].get("way_out_statements") and len(runs) < tries:
        run_statements(db, runs[-1]["way_out_statements"])
        runs.append(upgrade(db))
    return runs
