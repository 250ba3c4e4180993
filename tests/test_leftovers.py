"""The orphan guard: a scratch copy is a leftover only when the run that made it has ended.

Every rehearsal removes leftovers first; a scratch folder of a run still going (another
terminal's rehearsal, another test worker's) must stay, or that run loses its copy mid-way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from runbooks.database.leftovers import SQLITE_PREFIX, find_leftovers, owner_tag, remove_leftovers


def scratch_folder(pid: int) -> Path:
    host = owner_tag().split("_")[0]
    return Path(tempfile.mkdtemp(prefix=f"{SQLITE_PREFIX}{host}_{pid}-", dir=tempfile.gettempdir()))


def ended_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)


def test_a_running_owners_scratch_folder_stays_and_an_ended_ones_goes():
    living, ended = scratch_folder(os.getpid()), scratch_folder(ended_pid())
    try:
        found = {leftover.name for leftover in find_leftovers()}
        assert str(living) not in found and str(ended) in found
        removed = {leftover.name for leftover in remove_leftovers()}
        assert living.is_dir() and str(living) not in removed
        assert not ended.exists() and str(ended) in removed
    finally:
        for folder in (living, ended):
            if folder.exists():
                folder.rmdir()
