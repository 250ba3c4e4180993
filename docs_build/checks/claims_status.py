"""Claims about the status task, checked by running ``status`` as a user does, in a process of its
own, on a copy of the 26.0 sample and on a path with no database (about 6 s, once per run)."""

from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from docs_build.checks.claim_registry import _graph, check
from runbooks.paths import PROJECT_ROOT
from runbooks.settings import DB_URL_ENV, INSTALL_DB_URL_ENV

SAMPLE = PROJECT_ROOT / "tests" / "fixtures" / "releases" / "galaxy-data-26.0.2.sqlite.gz"


UNREACHABLE = "postgresql://nobody@127.0.0.1:1/galaxy"  # no server listens on port 1


def _status(folder: Path, db: Path, *args: str, task: str = "status") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (DB_URL_ENV, INSTALL_DB_URL_ENV)}
    url = UNREACHABLE if db == Path("x") else f"sqlite:///{db}"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "runbooks", task, "--db", url, *args],
        cwd=folder,
        env=env | {"PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {"rc": done.returncode, "stdout": done.stdout, "imported": imported}


@cache
def _runs() -> dict:
    """``status --json`` and ``troubleshoot --no-rehearse`` on a copy of the 26.0 sample and on a
    missing file; whether the copy changed and what files are there afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        db = here / "galaxy.sqlite"
        with gzip.open(SAMPLE) as source, open(db, "wb") as target:
            shutil.copyfileobj(source, target)
        before = (hashlib.sha256(db.read_bytes()).hexdigest(), os.stat(db).st_mtime_ns)
        sample = _status(here, db, "--json")
        doctor = _status(here, db, "--no-rehearse", "--json", task="troubleshoot")
        after = (hashlib.sha256(db.read_bytes()).hexdigest(), os.stat(db).st_mtime_ns)
        missing = _status(here, here / "nope.sqlite")
        troubleshoot_missing = _status(here, here / "nope.sqlite", "--no-rehearse", task="troubleshoot")
        unreachable = _status(here, Path("x"), task="troubleshoot")  # its --db replaced below
        return {
            "troubleshoot": doctor | {"report": json.loads(doctor["stdout"])},
            "troubleshoot_unreachable": unreachable,
            "troubleshoot_missing": troubleshoot_missing,
            "sample": sample | {"report": json.loads(sample["stdout"]), "unchanged": before == after},
            "missing": missing,
            "files": sorted(p.name for p in here.iterdir()),
        }


@check
def status_reads_only_and_imports_no_galaxy():
    """No Galaxy module imported; the database file byte for byte the same, nothing beside it."""
    found = _runs()
    galaxy = [name for name in found["sample"]["imported"] if re.match(r"galaxy(\.|$)", name)]
    assert found["sample"]["imported"] and galaxy == [], galaxy[:5]
    assert found["sample"]["unchanged"] and found["files"] == ["galaxy.sqlite"], found["files"]
    assert (PROJECT_ROOT / "bench" / "status_vs_galaxy.py").is_file()


@check
def status_states(states):
    from runbooks.tasks.status import STATES

    assert list(STATES) == list(states), STATES


@check
def status_pending_and_next():
    """Pending revisions oldest first, each the child of the one before, ending at the head; a Next line."""
    report = _runs()["sample"]["report"]
    gxy = report["branches"]["gxy"]
    chain = [*gxy["current"], *gxy["pending"]]
    graph = _graph()
    assert all(graph.revisions[later].parents == (earlier,) for earlier, later in zip(chain, chain[1:], strict=False))
    assert gxy["pending"][-1] == gxy["heads"][0] and report["next"].startswith("Upgrade: ")


@check
def status_missing_and_exit_codes():
    """A missing file: state missing, not created; exit 1 unless up to date (healthy)."""
    from runbooks.cli import main
    from runbooks.tasks.status import Status

    found = _runs()
    assert "State:       missing" in found["missing"]["stdout"] and "nope.sqlite" not in found["files"]
    assert found["missing"]["rc"] == 1 and found["sample"]["rc"] == 1  # missing; behind
    assert "return 0 if status.is_healthy else 1" in inspect.getsource(main.cmd_status)
    assert 'self.state == "up-to-date"' in inspect.getsource(Status.is_healthy.fget)


@check
def command_options(command, options):
    """The command takes the options the page lists, and its runbook is one the docs build executes."""
    from runbooks.cli.main import build_parser

    parser = build_parser()._subparsers._group_actions[0].choices[command]
    flags = {flag for action in parser._actions for flag in action.option_strings}
    options = [options] if isinstance(options, str) else options
    assert set(options) <= flags, set(options) - flags
    assert (PROJECT_ROOT / "notebooks" / f"{command}.ipynb").is_file()
    assert "execute the runbooks" in (PROJECT_ROOT / "docs_build" / "site_build" / "pipeline.py").read_text()


@check
def status_json_fields():
    """``status --json`` on the 26.0 sample: the state, each branch's current, heads, release and
    pending revisions, and the next step."""
    report = _runs()["sample"]["report"]
    assert report["state"] == "behind" and report["next"]
    for branch in ("gxy", "tsi"):
        assert {"current", "heads", "release", "pending"} <= set(report["branches"][branch])


@check
def status_runbook_prints_each_view():
    notebook = (PROJECT_ROOT / "notebooks" / "status.ipynb").read_text(encoding="utf-8")
    for view in ("dbversion_lines(status, graph)", "version_lines", "history_lines(graph, status.rows", "next_step"):
        assert view in notebook, view
