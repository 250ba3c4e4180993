"""Running a runbook notebook with papermill, the database URLs passed by environment only.

Papermill writes parameters into the executed notebook, so a URL never travels as one;
the kernel inherits ``RUNBOOK_DB_URL`` (and ``RUNBOOK_INSTALL_DB_URL`` for a separate tool shed
install database). The saved copy is checked for the passwords and masked if any cell printed one.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runbooks.cli.parameters import declared_parameters
from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.environ import temporary_environ
from runbooks.errors import NotebookFailed, UsageError
from runbooks.paths import IMPORT_ROOT, NOTEBOOKS_DIR, program, runbook_home
from runbooks.settings import DB_URL_ENV, HOME_ENV, INSTALL_DB_URL_ENV, PROGRAM_ENV

CELL_TIMEOUT_S = 900


def available_tasks() -> list[str]:
    return sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))


def notebook_path(task: str) -> Path:
    """Only a notebook of ``notebooks/`` by its name: never a path the user typed."""
    if task not in available_tasks():
        raise UsageError(f"no runbook named {task!r}: choose one of {', '.join(available_tasks())}")
    return NOTEBOOKS_DIR / f"{task}.ipynb"


def check_parameters(parameters: dict[str, str]) -> None:
    for name, value in parameters.items():
        if mask_text(str(value)) != str(value) or "url" in name.lower() or "password" in name.lower():
            raise UsageError(
                f"parameter {name!r} would be saved in the executed notebook: pass the database URL "
                f"through ${DB_URL_ENV} or --db instead"
            )


def output_path(task: str, output: str | Path | None) -> Path:
    """Where the executed notebook goes: ``output`` (inside it when it is a folder) or runs/.

    Checked before anything runs: a folder that is missing or cannot be written is refused.
    """
    stamp = f"{task}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
    if output is None:
        return runbook_home() / "runs" / stamp
    as_folder = str(output).endswith(os.sep)
    output = Path(output).expanduser().absolute()
    if output.is_dir() or as_folder:
        output = output / stamp
    elif output.suffix != ".ipynb":
        raise UsageError(f"-o {output}: give a notebook path ending in .ipynb, or an existing folder")
    folder = output.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"-o {output}: {folder} {what}: create the folder or choose another")
    if output.exists() and not output.is_file():
        raise UsageError(f"-o {output}: not a regular file: choose a notebook path (.ipynb) or a folder")
    if output.exists() and not _is_notebook(output):
        raise UsageError(
            f"-o {output}: that file exists and is not a notebook (a database named .ipynb, or a link to one?): "
            "it would be overwritten; choose another path"
        )
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        raise UsageError(f"-o {output}: cannot write into {folder} ({error.strerror}): choose another folder") from None
    return output


def _is_notebook(path: Path) -> bool:
    """Whether the file (a link's target) is a Jupyter notebook: only one may be overwritten with the run."""
    try:
        with open(path, "rb") as stream:
            if not stream.read(4096).lstrip().startswith(b"{"):
                return False
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and "cells" in found and "nbformat" in found


def _kernel_config(folder: Path):
    """Talk to the kernel over local sockets (IPC), not over TCP: nothing listens on the network,
    and ipykernel has no unencrypted-TCP warning to print. The sockets get a folder of this run's
    own: jupyter_client's default name ("kernel-ipc" in the working directory) is shared by every
    kernel started there, so two runbooks executed at once would bind the same sockets."""
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel-ipc")}})


def with_galaxy_root(task: str, parameters: dict, galaxy_root: Path | None) -> dict:
    """``parameters`` plus the checkout given with ``--galaxy-root``, so the notebook runs its code too."""
    if galaxy_root is None or "galaxy_root" in parameters:
        return parameters
    if "galaxy_root" not in declared_parameters(notebook_path(task)):
        raise UsageError(
            f"runbook {task} works on the sample with the installed galaxy-data and takes no Galaxy checkout: "
            "drop --galaxy-root"
        )
    return {**parameters, "galaxy_root": str(galaxy_root)}


def _kernel_env(db: DatabaseUrl | None, home: Path | None, install_db: DatabaseUrl | None = None):
    """The kernel inherits these: the URL (or none, so it uses the sample), the install database's URL
    (or none: one database holds both branches), the project home, and this
    ``runbooks`` on its path (the kernel starts in notebooks/, as Jupyter starts it, not in the project).
    Installed, that folder is the tool's site-packages: a Galaxy worker the kernel starts for a checkout
    drops it again (``runbooks.galaxy.protocol``), so the checkout's code never imports the tool's packages."""
    path = os.pathsep.join(p for p in (str(IMPORT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    changes = {DB_URL_ENV: db.secret() if db is not None else None, "PYTHONPATH": path, PROGRAM_ENV: program()}
    changes[INSTALL_DB_URL_ENV] = install_db.secret() if install_db is not None else None
    if home is not None:
        changes[HOME_ENV] = str(home)
    return temporary_environ(changes)


def run_notebook(
    task: str,
    parameters: dict | None = None,
    db: DatabaseUrl | None = None,
    output: Path | None = None,
    home: Path | None = None,
    install_db: DatabaseUrl | None = None,
) -> Path:
    """Execute ``notebooks/<task>.ipynb`` into ``output`` (default: a timestamped copy under runs/).

    ``install_db``: a separate tool shed install database beside ``db`` (the kernel's selection takes it)."""
    import papermill

    source = notebook_path(task)
    parameters = dict(parameters or {})
    check_parameters(parameters)
    output = output_path(task, output) if output is None or Path(output).is_dir() else Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    secrets = [found.password for found in (db, install_db) if found is not None and found.password]
    try:
        with (
            _kernel_env(db, home, install_db),
            tempfile.TemporaryDirectory(prefix="rbk-") as sockets,
            _kernel_stderr(Path(sockets) / "kernel.log"),
        ):
            papermill.execute_notebook(
                str(source),
                str(output),
                parameters=parameters,
                cwd=str(NOTEBOOKS_DIR),
                progress_bar=False,
                execution_timeout=CELL_TIMEOUT_S,
                kernel_name="python3",
                config=_kernel_config(Path(sockets)),
            )
    except papermill.PapermillExecutionError as error:
        _scrub(output, secrets)
        raise NotebookFailed(
            f"runbook {task} failed in cell {error.exec_count}: {mask_text(cell_error(error), *secrets)} "
            f"(executed copy: {output})"
        ) from None
    _scrub(output, secrets)
    return output


@contextmanager
def _kernel_stderr(log: Path) -> Iterator[None]:
    """The kernel process's own stderr goes to ``log``, not to the user's terminal (a cell's output is in the
    notebook): ipykernel's shutdown can race its sockets and print a ZMQError traceback there."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log, "wb") as sink:
        os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def cell_error(error) -> str:
    """The failing cell's error, never empty: a bare ``assert`` has no message, so name it and its line."""
    import re

    if error.evalue:
        return f"{error.ename}: {error.evalue}"
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in error.traceback or []]
    marked = [line.split("---->", 1)[1] for text in lines for line in text.splitlines() if "---->" in line]
    failing = [re.sub(r"^\s*\d*\s*", "", line).rstrip() for line in marked]
    return f"{error.ename or 'error'} at: {failing[-1]}" if failing else (error.ename or "error (no message)")


def _scrub(path: Path, secrets: list[str]) -> None:
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    masked = mask_text(text, *secrets)
    if masked != text:
        path.write_text(masked, encoding="utf-8")
