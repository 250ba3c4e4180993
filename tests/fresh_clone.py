"""A fresh clone of this repository as a new contributor or a CI runner has it, for whole-build tests.

``git clone`` of the project, then this working tree's uncommitted changes (tracked edits and new,
not ignored files) put on top, so the tests build what is being tested: nothing ignored comes along
(no ``build/``, ``.runbooks/``, ``site/``, caches). Its ``.venv`` is what the README's install makes
as far as the build can tell: an interpreter of its own, this project installed editable by pip
(which maps ``runbooks`` only), every command (``mkdocs``, ...) in ``.venv/bin``; the third-party
packages are the project venv's, reached through a path file instead of installed again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from runbooks.settings import CACHE_ENV

PROJECT = Path(__file__).resolve().parent.parent


def _git(*args: str, cwd: Path = PROJECT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, **kwargs)


def clone_working_tree(dest: Path) -> Path:
    """``git clone`` into ``dest``, then the working tree's uncommitted changes on top."""
    _git("clone", "-q", str(PROJECT), str(dest))
    diff = _git("diff", "--binary", "HEAD").stdout
    if diff.strip():
        _git("apply", "--whitespace=nowarn", "-", cwd=dest, input=diff)
    untracked = _git("ls-files", "-z", "--others", "--exclude-standard").stdout.decode().split("\0")
    for name in filter(None, untracked):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, dest / name)
    return dest


def readme_venv(clone: Path) -> Path:
    """``clone/.venv``: its own interpreter, the clone installed editable by pip, the packages of this venv."""
    venv = clone / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "project-venv-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "-e", str(clone)],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (venv / "share").mkdir(exist_ok=True)  # pip installs data files there: nbconvert's templates, kernel specs
    (venv / "share" / "jupyter").symlink_to(Path(sys.prefix) / "share" / "jupyter")
    for source in sorted((Path(sys.prefix) / "bin").iterdir()):
        script = venv / "bin" / source.name
        head = source.read_bytes()[:200] if source.is_file() and not source.is_symlink() else b""
        if script.exists() or source.name.startswith(("python", "pip", "activate", "Activate")):
            continue
        if head.startswith(f"#!{sys.prefix}/bin/python".encode()):
            script.write_text(f"#!{python}\n" + source.read_text().split("\n", 1)[1])  # as pip writes it
            script.chmod(0o755)
        elif head and not head.startswith(b"#!"):
            script.symlink_to(source)  # a compiled command a wheel installs (squawk)
    return venv


def runner_env(home: Path, **extra: str) -> dict[str, str]:
    """A CI runner's environment: a home and caches with nothing in them, no PYTHONPATH, CI=true."""
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    for folder in ("home", "cache", "runbook-cache"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "HOME": str(home / "home"),
            "XDG_CACHE_HOME": str(home / "cache"),
            CACHE_ENV: str(home / "runbook-cache"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
        }
    )
    return {**env, **extra}
