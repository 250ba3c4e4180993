"""One older Galaxy release's packages in a virtualenv of its own, every galaxy-* package pinned to it.

pip resolves ``galaxy-data==21.9.0`` with the newest ``galaxy-util`` it may, and 21.9's model
then fails to import (``cannot import name 'new_secure_hash' from 'galaxy.util.hash_util'``):
a constraints file pins each galaxy-* distribution to the release. Releases before 23.0 need
SQLAlchemy 1.x and sqlalchemy-migrate, which install on Python 3.9 (3.8 for 20.x), not 3.11.

The venvs live in the user's cache (``$RUNBOOK_PINNED_VENVS``, else
``~/.cache/galaxy-migrations/pinned-venvs``), never in a clone, so one install serves every run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from runbooks.settings import PINNED_VENVS_ENV, PYTHON_ENV_PREFIX

# Galaxy's own distributions share the release's version number (galaxy-sequence-utils does not).
GALAXY_DISTRIBUTIONS = (
    "galaxy-app galaxy-auth galaxy-config galaxy-containers galaxy-data galaxy-files galaxy-job-execution "
    "galaxy-job-metrics galaxy-navigation galaxy-objectstore galaxy-schema galaxy-tool-util galaxy-tool-util-models "
    "galaxy-util galaxy-web-apps galaxy-web-framework galaxy-web-stack"
).split()
# What a release's metadata leaves open and its code cannot take (found by running it here):
# galaxy-data 20.9.1 accepts SQLAlchemy 2, whose API its model and sqlalchemy-migrate predate.
OTHER_PINS = {"20": ["SQLAlchemy<1.4"]}


def venv_cache() -> Path:
    """The folder of pinned venvs: a folder of its own (venvs elsewhere may mix galaxy-* versions)."""
    return Path(os.environ.get(PINNED_VENVS_ENV) or Path.home() / ".cache" / "galaxy-migrations" / "pinned-venvs")


def find_python(wanted: str) -> str | None:
    """Python ``wanted`` (``"3.9"``): ``$RUNBOOK_PYTHON39``, else the newest in a pyenv (the home's, or the one
    whose shims are on PATH: a shim alone fails when HOME is another), else ``python3.9`` on PATH."""
    named = os.environ.get(f"{PYTHON_ENV_PREFIX}{wanted.replace('.', '')}")
    if named:
        return named
    shims = [Path(folder).parent for folder in os.environ.get("PATH", "").split(os.pathsep) if folder.endswith("shims")]
    for pyenv in [Path.home() / ".pyenv", *shims]:
        versions = (pyenv / "versions").glob(f"{wanted}.*/bin/python")
        found = sorted(
            versions, key=lambda python: [int(n) if n.isdigit() else -1 for n in python.parts[-3].split(".")]
        )
        if found:
            return str(found[-1])
    return shutil.which(f"python{wanted}")


def release_python(version: str) -> str:
    """The interpreter a release's venv is made with: 3.8 for 20.x, 3.9 for 21.x-22.x, this one after."""
    major = int(version.split(".")[0])
    wanted = "3.8" if major <= 20 else "3.9" if major <= 22 else None
    if wanted is None:
        return sys.executable
    python = find_python(wanted)
    if python is None or not Path(python).is_file():
        variable = f"{PYTHON_ENV_PREFIX}{wanted.replace('.', '')}"
        raise RuntimeError(
            f"galaxy-data {version} needs Python {wanted}: none found (set {variable}, or put python{wanted} on PATH)"
        )
    return python


def constraints(version: str) -> str:
    pins = [f"{name}=={version}" for name in GALAXY_DISTRIBUTIONS] + OTHER_PINS.get(version.split(".")[0], [])
    return "".join(f"{pin}\n" for pin in pins)


def installed(venv: Path, names: list[str]) -> dict:
    python = venv / "bin" / "python"
    if not python.is_file():
        return {}
    code = (
        "import sys, json\nfrom importlib.metadata import version, PackageNotFoundError\n"
        "def v(n):\n    try: return version(n)\n    except PackageNotFoundError: return None\n"
        "print(json.dumps({n: v(n) for n in json.loads(sys.argv[1])}))"
    )
    proc = subprocess.run([str(python), "-c", code, json.dumps(names)], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def is_pinned(venv: Path, version: str) -> bool:
    """galaxy-data ``version`` is installed in ``venv`` and every galaxy-* distribution there is at it too."""
    have = {name: found for name, found in installed(venv, list(GALAXY_DISTRIBUTIONS)).items() if found}
    return have.get("galaxy-data") == version and set(have.values()) == {version}


def pinned_venv(version: str, cache: Path | None = None, extras: tuple[str, ...] = ("psycopg2-binary",)) -> Path:
    """``cache/galaxy-data-VERSION`` with galaxy-data and every galaxy-* it pulls in at ``version``."""
    venv = (cache or venv_cache()) / f"galaxy-data-{version}"
    if is_pinned(venv, version):
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([release_python(version), "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(["nice", "-n", "10", *pip, "-U", "pip"], check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.write(constraints(version))
    try:
        proc = subprocess.run(
            ["nice", "-n", "10", *pip, "-c", pins.name, f"galaxy-data=={version}", *extras],
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(pins.name)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if "ERROR" in line]
        raise RuntimeError(f"pip install galaxy-data=={version} failed: {lines[-1] if lines else proc.returncode}")
    return venv
