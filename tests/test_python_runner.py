"""The experiments' forked ``python -c`` gives what a fresh ``python -c`` gives, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from docs_build.checks import experiments, python_runner
from docs_build.checks.python_runner import run_python

PROGRAM = """
import sys, warnings
print("out", sys.argv[1:], __name__)
print("err", file=sys.stderr)
warnings.warn("a user warning")
if sys.argv[1] == "raise":
    raise ValueError("from the program")
sys.exit(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])
"""


def fresh_python(code: str, argv: list[str], cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def both_ways(monkeypatch, experiment) -> tuple[dict, dict]:
    """``experiment`` run with the forked runner, then with fresh processes."""
    results = []
    for runner in (run_python, fresh_python):
        monkeypatch.setattr(experiments, "run_python", runner)
        with tempfile.TemporaryDirectory(prefix="claims-") as folder:
            results.append(experiment(Path(folder)))
    return results[0], results[1]


@pytest.mark.parametrize("argv", [["0"], ["3"], ["a message"], ["raise"]])
@pytest.mark.parametrize("warnings", [None, "ignore"])
def test_exit_status_output_and_traceback_equal_a_fresh_process(argv, warnings, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    if warnings:
        env["PYTHONWARNINGS"] = warnings
    forked = run_python(PROGRAM, argv, tmp_path, env)
    fresh = fresh_python(PROGRAM, argv, tmp_path, env)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert ("a user warning" in forked.stderr) == (warnings is None)


@pytest.mark.parametrize("name", ["unknown-revision", "revision-files"])
def test_galaxy_experiments_equal_fresh_processes(name, monkeypatch):
    """Galaxy's startup check and dbversion without PYTHONWARNINGS (a second server), and a revision
    file that fails to import (Galaxy's traceback through Alembic's loader)."""
    forked, fresh = both_ways(monkeypatch, experiments.EXPERIMENTS[name])
    assert forked == fresh


def test_a_run_past_the_timeout_is_stopped_and_leaves_no_process(monkeypatch, tmp_path):
    run_python("pass", [], tmp_path)  # the server's import of Galaxy counts against the first run's limit
    monkeypatch.setattr(python_runner, "TIMEOUT_S", 2.0)
    program = "import os, pathlib, time\npathlib.Path('pid').write_text(str(os.getpid()))\ntime.sleep(60)"
    with pytest.raises(RuntimeError, match="longer than 2 s"):
        run_python(program, [], tmp_path)
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    monkeypatch.undo()
    assert run_python("print('next')", [], tmp_path).stdout == "next\n"  # a new server takes over
