"""Running a runbook notebook with papermill, the database URL passed by environment only.

Papermill writes parameters into the executed notebook, so a URL never travels as one;
the kernel inherits ``RUNBOOK_DB_URL``. The saved copy is checked for the password and
masked if any cell printed it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.environ import temporary_environ
from runbooks.errors import NotebookFailed, UsageError
from runbooks.paths import DB_URL_ENV, IMPORT_ROOT, NOTEBOOKS_DIR, runbook_home

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


def _kernel_env(db: DatabaseUrl | None, home: Path | None):
    """The kernel inherits these: the URL (or none, so it uses the sample), the project home, and
    this ``runbooks`` first on its path (the kernel starts in notebooks/, not beside the package)."""
    path = os.pathsep.join([str(IMPORT_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    changes = {DB_URL_ENV: db.secret() if db is not None else None, "PYTHONPATH": path}
    if home is not None:
        changes["RUNBOOK_HOME"] = str(home)
    return temporary_environ(changes)


def run_notebook(
    task: str,
    parameters: dict | None = None,
    db: DatabaseUrl | None = None,
    output: Path | None = None,
    home: Path | None = None,
) -> Path:
    """Execute ``notebooks/<task>.ipynb`` into ``output`` (default: a timestamped copy under runs/)."""
    import papermill

    source = notebook_path(task)
    parameters = dict(parameters or {})
    check_parameters(parameters)
    if output is None:
        output = runbook_home() / "runs" / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    secret = db.password if db else None
    try:
        with _kernel_env(db, home):
            papermill.execute_notebook(
                str(source),
                str(output),
                parameters=parameters,
                cwd=str(NOTEBOOKS_DIR),
                progress_bar=False,
                execution_timeout=CELL_TIMEOUT_S,
                kernel_name="python3",
                # the kernel talks to papermill on loopback only: its TCP-without-encryption warning is noise
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
    except papermill.PapermillExecutionError as error:
        _scrub(output, secret)
        raise NotebookFailed(
            f"runbook {task} failed in cell {error.exec_count}: {mask_text(error.evalue, secret)} "
            f"(executed copy: {output})"
        ) from None
    _scrub(output, secret)
    return output


def _scrub(path: Path, secret: str | None) -> None:
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    masked = mask_text(text, secret)
    if masked != text:
        path.write_text(masked, encoding="utf-8")
