"""Small file systems for fault tests: a full disk (a tiny tmpfs) and a read-only folder (tmpfs remounted ro).

Root can write into a ``chmod 555`` folder, so a read-only folder must be a read-only mount.
Both need root (mount); elsewhere the tests that use them skip, saying why, except under
``CI=true``, where an attack that cannot run fails: CI must never pass by not running it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import IN_CI


def cannot_run(reason: str) -> None:
    """Skip, saying why; under CI=true fail instead (CI runs as root and must run these attacks)."""
    if IN_CI:
        pytest.fail(f"{reason}, and CI=true: this attack must run in CI", pytrace=False)
    pytest.skip(reason)


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        cannot_run(f"cannot mount a tmpfs here ({result.stderr.strip()}): needs root")


@contextmanager
def tmpfs(folder: Path, size: str = "1M") -> Iterator[Path]:
    """``folder`` as a tmpfs of ``size`` (a full disk once that much is written)."""
    if os.geteuid() != 0:
        cannot_run("a small tmpfs needs root (mount)")
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def make_read_only(folder: Path) -> None:
    """Remount the tmpfs at ``folder`` read-only (root included)."""
    _mount("-o", "remount,ro", str(folder))


def fill(folder: Path) -> None:
    """Write until the tmpfs at ``folder`` is full."""
    try:
        with open(folder / "filler", "wb") as stream:
            while True:
                stream.write(b"\0" * 65536)
                stream.flush()
    except OSError:
        pass
