"""The worker for a checkout runs in the checkout's own environment: its venv, its lib/, and this package alone.

Installed, the folder holding ``runbooks`` is the tool's whole site-packages; on the worker's path it
handed a 23.1 checkout's venv (pydantic 1, SQLAlchemy 1.4) the tool's pydantic 2 and SQLAlchemy 2.
Here a folder stands for that site-packages: ``runbooks`` beside a poisoned ``sqlalchemy``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runbooks.galaxy import protocol
from runbooks.paths import IMPORT_ROOT
from runbooks.settings import GALAXY_VIRTUAL_ENV_ENV

POISON = "raise ImportError('the tool site-packages SQLAlchemy reached the checkout worker')\n"


@pytest.fixture
def tool_site(tmp_path, monkeypatch) -> Path:
    """A stand-in for the tool's site-packages: this ``runbooks`` and a ``sqlalchemy`` that must not be imported."""
    site = tmp_path / "site-packages"
    (site / "sqlalchemy").mkdir(parents=True)
    (site / "sqlalchemy" / "__init__.py").write_text(POISON)
    (site / "runbooks").symlink_to(IMPORT_ROOT / "runbooks", target_is_directory=True)
    monkeypatch.setattr(protocol, "IMPORT_ROOT", site)
    monkeypatch.setenv("PYTHONPATH", str(site))  # as a kernel the tool started inherits it
    return site


def checkout(root: Path, env, venv: Path) -> Path:
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    (root / "config").mkdir()
    (root / ".venv").symlink_to(venv, target_is_directory=True)
    return root


def ask_server(lib: Path, request: dict) -> tuple[dict | None, str]:
    argv, env, cwd = protocol.server_command(str(lib))
    result = subprocess.run(
        argv, env=env, cwd=cwd, input=json.dumps(request) + "\n", capture_output=True, text=True, timeout=120
    )
    replies = [line for line in result.stdout.splitlines() if line.startswith(protocol.REPLY_PREFIX)]
    reply = json.loads(replies[0][len(protocol.REPLY_PREFIX) :]) if replies else None
    return reply, result.stderr


@pytest.fixture
def head_db(sqlite_db):
    return sqlite_db("head")  # made before the stand-in site-packages is on PYTHONPATH


def test_checkout_worker_never_imports_from_the_folder_holding_the_tool(head_db, tool_site, tmp_path, env):
    root = checkout(tmp_path / "galaxy", env, Path(sys.prefix))  # the venv: this one, SQLAlchemy 2 of its own
    db = head_db
    request = {"command": "dbversion", "url": db.secret(), "alembic_config": None, "timeout": 120}
    reply, stderr = ask_server(root / "lib", request | {"record_sql": False, "arguments": {}})
    assert reply is not None and "stdout" in reply, stderr[-2000:]
    assert reply["errors"] == []


def test_a_checkout_venv_that_cannot_run_the_worker_gets_one_line(tool_site, tmp_path, env, monkeypatch):
    venv = tmp_path / "bare-venv"  # a Python without SQLAlchemy, as a checkout's venv before common_startup.sh
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    root = checkout(tmp_path / "galaxy", env, venv)
    monkeypatch.delenv(GALAXY_VIRTUAL_ENV_ENV, raising=False)
    reply, stderr = ask_server(root / "lib", {"command": "verdict", "url": "sqlite:////nowhere.sqlite"})
    assert reply is not None, stderr[-2000:]
    line = reply["refused"]
    assert "\n" not in line and "needs the module 'sqlalchemy'" in line
    assert str(root) in line and str(root / ".venv" / "bin" / "python") in line
