"""Where the docs build keeps what it executed: the user's cache, shared by every clone on the machine.

Entries are keyed by what decides them (the code, the notebook, the versions) and hold no path of
the clone that made them, so a fresh clone (a CI run, a writer's second checkout) builds from what
an earlier build on the same machine executed instead of executing everything again.
``RUNBOOK_DOCS_CACHE`` and ``RUNBOOK_CLAIMS_CACHE`` name other folders.
"""

from __future__ import annotations

import os
from pathlib import Path

from docs_build.settings import CLAIMS_CACHE_ENV, DOCS_CACHE_ENV

ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "galaxy-migrations" / "docs"
SHOWN_ROOT = "~/.cache/galaxy-migrations/docs"  # what a reader sees of it
RUNBOOKS = Path(os.environ.get(DOCS_CACHE_ENV) or ROOT / "runbooks")
CLAIMS = Path(os.environ.get(CLAIMS_CACHE_ENV) or ROOT / "claims")
