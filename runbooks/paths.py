"""Where the project keeps things, and the names of the environment variables it reads."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CLI = "python -m runbooks"

HOME_ENV = "RUNBOOK_HOME"  # the project-local folder (sample database, backups, runs)
DB_URL_ENV = "RUNBOOK_DB_URL"  # the database a task works on when --db is not given
PG_SERVER_ENV = "RUNBOOK_PG_URL"  # a PostgreSQL server for scratch databases
GALAXY_DB_OVERRIDE_ENV = "GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION"
GALAXY_TSI_OVERRIDE_ENV = "GALAXY_INSTALL_CONFIG_OVERRIDE_INSTALL_DATABASE_CONNECTION"


def runbook_home() -> Path:
    """The project-local folder for the sample database, backups and executed notebooks."""
    return Path(os.environ.get(HOME_ENV) or PROJECT_ROOT / ".runbooks")
