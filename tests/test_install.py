"""The installed tool: ``pip install .`` gives ``galaxy-migrations``, usable from any directory.

The wheel is built and installed into a fresh venv; its dependencies come from the project's
venv through a ``.pth`` file (so the test does not download Galaxy again), which leaves the
project's own folder off the path: only the installed ``runbooks`` can answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from runbooks.settings import DB_URL_ENV, HOME_ENV

from conftest import PROJECT
from test_installed_tier import shared_wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The run's one wheel (built once per run: two builds in the project's build/ folder at once would race)."""
    wheel = shared_wheel()
    folder = tmp_path_factory.mktemp("install")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "-q", str(wheel)], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return venv


def tool(venv: Path, *args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", HOME_ENV, DB_URL_ENV)}
    env["XDG_DATA_HOME"] = str(home)
    return subprocess.run(
        [venv / "bin" / "galaxy-migrations", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_installed_package_is_not_the_project_folder(installed, tmp_path):
    out = subprocess.run(
        [
            installed / "bin" / "python",
            "-c",
            "import runbooks, runbooks.paths as p; print(runbooks.__file__, p.IS_SOURCE_TREE)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(PROJECT) not in out and out.strip().endswith("False")


def test_status_on_a_galaxy_checkout_from_its_root(installed, tmp_path, sqlite_db, env):
    root = tmp_path / "galaxy"
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    (root / "config").mkdir()
    db = sqlite_db("head")
    (root / "config" / "galaxy.yml").write_text(f"galaxy:\n  database_connection: sqlite:///{db.sqlite_path}\n")
    result = tool(installed, "status", "--galaxy-root", ".", cwd=root, home=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "State:       up-to-date" in result.stdout
    assert str(db.sqlite_path) in result.stdout


def test_run_status_and_troubleshoot_on_the_sample_from_elsewhere(installed, tmp_path):
    home = tmp_path / "data"
    result = tool(installed, "run", "status", cwd=tmp_path, home=home)
    assert result.returncode == 0, result.stderr[-3000:]
    sample = home / "galaxy-migrations" / "sample.sqlite"
    assert sample.is_file()
    assert list((home / "galaxy-migrations" / "runs").glob("status-*.ipynb"))
    doctor = tool(installed, "troubleshoot", cwd=tmp_path, home=home)
    assert doctor.returncode == 0, doctor.stdout[-2000:] + doctor.stderr[-2000:]
    assert "No problems found." in doctor.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing written where it ran
