"""Galaxy 22.01's own SQLAlchemy Migrate, run with that release's code in its own environment.

The one step on the road from before 22.05 that the current code cannot take: SQLAlchemy Migrate's
scripts stop at version 180 and left Galaxy in 22.05, so a database below 180 reaches it only with
release 22.01 (``sh manage_db.sh upgrade`` in a ``release_22.01`` checkout). What that script does
is run here: 22.01's ``scripts/manage_db.py`` reads the Migrate repository with
``galaxy.model.orm.scripts.get_config`` from the checkout's root and hands it, with the database URL,
to ``migrate.versioning.shell.main``. The checkout's own virtualenv runs it (22.01 needs SQLAlchemy
1.x and sqlalchemy-migrate, Python 3.9 at the newest), and the URL travels on stdin, never on a
command line another user can read.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.errors import UsageError
from runbooks.lifetime import dies_with_us

LAST_MIGRATE_SCRIPT = "lib/galaxy/model/migrate/versions/0180_add_vault_table.py"
MANAGE_DB = r"""
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "lib"))
from migrate.versioning.shell import main
from galaxy.model.orm.scripts import get_config
url = sys.stdin.readline().strip()
config = get_config(["manage_db.py"] + sys.argv[1:], use_argparse=False, cwd=os.getcwd())
main(sys.argv[1:], repository=config["repo"], url=url)
"""
TIMEOUT_S = 1800


@dataclass(frozen=True)
class Release2201:
    """A Galaxy 22.01 checkout (or a tree shaped like one) and the Python of its virtualenv."""

    root: Path
    python: Path

    def describe(self) -> str:
        return f"Galaxy 22.01 at {self.root} (its virtualenv: {self.python})"


def locate(root: str | Path) -> Release2201:
    """``root`` as release 22.01's code: its last Migrate script and its ``.venv``; one clear line if not."""
    root = Path(root).expanduser().absolute()
    if not (root / LAST_MIGRATE_SCRIPT).is_file():
        raise UsageError(
            f"{root} is not a Galaxy release_22.01 checkout (no {LAST_MIGRATE_SCRIPT}): "
            "git clone -b release_22.01 https://github.com/galaxyproject/galaxy and give its folder"
        )
    python = root / ".venv" / "bin" / "python"
    if not python.is_file():
        raise UsageError(
            f"{root} has no virtualenv (.venv/bin/python): create it the way that release does "
            "(sh scripts/common_startup.sh, with Python 3.7-3.9), then run again"
        )
    return Release2201(root, python)


def manage_db(code: Release2201, db: DatabaseUrl, *args: str) -> tuple[int, str]:
    """``sh manage_db.sh ARGS`` of release 22.01 on ``db``: its exit code and its output, password masked."""
    done = subprocess.run(
        [str(code.python), "-c", MANAGE_DB, *args],
        cwd=code.root,
        input=db.secret() + "\n",
        env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=dies_with_us(),
    )
    return done.returncode, mask_text(done.stdout + done.stderr, db.password)
