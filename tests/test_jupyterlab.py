"""A runbook opened the way a user opens it: JupyterLab on a loopback port, in Chromium, Run All.

The notebook is a copy in a temporary folder (JupyterLab saves what it runs; notebooks/ stays
without outputs), the kernel finds this project's ``runbooks`` through PYTHONPATH, and the
sample database goes to a temporary RUNBOOK_HOME. Every request to another host is blocked.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from runbooks.settings import DB_URL_ENV, HOME_ENV

from conftest import CHROMIUM
from docs_site import ARTIFACTS, PROJECT

STARTUP_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer on {url} within {STARTUP_S}s")


@pytest.fixture
def jupyterlab(tmp_path):
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("/usr/bin/chromium is required under CI=true (apt-get install -y chromium)")
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium")
    work = tmp_path / "lab"
    work.mkdir()
    shutil.copyfile(PROJECT / "notebooks" / "status.ipynb", work / "status.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        HOME_ENV: str(tmp_path / "home"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),  # no user settings, no news prompt state
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
    }
    env.pop(DB_URL_ENV, None)
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/api/status?token={token}", server)
        yield {"base": base, "token": token, "work": work}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.copyfile(tmp_path / "jupyterlab.log", ARTIFACTS / "jupyterlab.log") if ARTIFACTS.is_dir() else None


def test_status_runbook_runs_in_jupyterlab(jupyterlab, browser):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    base = jupyterlab["base"]
    blocked: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})

    def route(request_route):
        url = request_route.request.url
        if url.startswith(base) or url.startswith(("ws://127.0.0.1", "data:", "blob:")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    try:
        page.goto(f"{base}/lab/tree/status.ipynb?token={jupyterlab['token']}")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=STARTUP_S * 1000)
        try:  # JupyterLab may ask which kernel to start: the notebook's own (ipykernel's python3)
            page.locator(".jp-Dialog .jp-mod-accept").click(timeout=15_000)
        except PlaywrightTimeout:
            pass
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=STARTUP_S * 1000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        # the sample is made by Galaxy's own initialization on first use: allow minutes on a busy machine
        page.get_by_text("Nothing was changed (status only reads)").first.wait_for(timeout=300_000)
        outputs = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    finally:
        ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / "jupyterlab-status.png"))
        context.close()
    assert "State: up-to-date" in outputs
    assert "(head) (current)" in outputs  # the history, as db_dev.sh history --indicate-current shows it
    assert "Traceback" not in outputs and "Error" not in outputs.split("Nothing was changed")[0]
    assert (jupyterlab["work"].parent / "home" / "sample.sqlite").exists()  # the sample, not a user's database
    assert blocked == []  # JupyterLab asked no other host
