"""Ctrl-C at the commands that make or replace a whole database: what is left must be whole or nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from runbooks.settings import HOME_ENV

from attacks import attack
from conftest import PROJECT
from test_faults import wait_for


@attack("signals", "Ctrl-C during `sample --release 25.0 OUT`", "exit 130; no OUT and no partial file left")
def test_ctrl_c_during_sample_leaves_no_half_made_file(tmp_path):
    folder, out = tmp_path / "made", tmp_path / "made" / "practice.sqlite"
    folder.mkdir()
    cli = subprocess.Popen(
        [sys.executable, "-m", "runbooks", "sample", "--release", "25.0", str(out)],
        cwd=PROJECT,
        env={**os.environ, HOME_ENV: str(tmp_path / "home")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        # Galaxy's initialization has begun writing the database: the moment a half-made file exists
        assert wait_for(lambda: any(folder.iterdir()) or cli.poll() is not None, timeout=60, every=0.01)
        assert cli.poll() is None, f"the sample was made before the interrupt: {cli.communicate()}"
        os.killpg(cli.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's whole process group
        stdout, stderr = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
    assert cli.returncode == 130, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert sorted(path.name for path in folder.iterdir()) == []
