"""The way back: head down to the release's tag, then that release's own code judges the database.

The release's venv (tests/fixtures/make_checkout_tree.ensure_release_venv, cached in
$RUNBOOK_RELEASE_VENVS) runs its startup check (``verify_databases_via_script``, what
``create_db.sh``/Galaxy's start run) and ``dbversion``. For 22.01, the last SQLAlchemy Migrate
release, the way back is ``downgrade 22.01`` (below Alembic's base) and the judge is Migrate's
``create_or_verify_database`` with the ``migrate_version`` it leaves.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from make_checkout_tree import ensure_release_venv
from make_release_data import release_python

from bench.upgrade_matrix.upgrade import run_cli
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.settings import RELEASE_VENVS_ENV

VENVS = Path(os.environ.get(RELEASE_VENVS_ENV) or Path.home() / ".cache" / "galaxy-migrations" / "release-venvs")
# A venv missing from (or replaced in) the shared cache is made here, where nothing else rebuilds it.
OWN_VENVS = Path.home() / ".cache" / "galaxy-migrations" / "matrix-venvs"
OLD_CODE_CHECK = """
import io, json, os, sys
from argparse import Namespace
from galaxy.model.migrations import DatabaseConfig, verify_databases_via_script
url = sys.argv[1]
config = DatabaseConfig(url, None, None)
verify_databases_via_script(config, config, False)
from galaxy.model.migrations.dbscript import DbScript  # reads config/galaxy.yml, as in a checkout
script = DbScript()
out = io.StringIO()
script.alembic_config.stdout = out
script.dbversion(Namespace(verbose=False))
print(json.dumps({"dbversion": sorted(line for line in out.getvalue().split(chr(10)) if line)}))
"""
# Before 22.05: SQLAlchemy Migrate's own startup check (what Galaxy's app runs; it raises unless the
# database is at the release's migrate_version), then that version read back.
MIGRATE_CHECK = """
import json, sys
from sqlalchemy import create_engine, text
from galaxy.model.migrate.check import create_or_verify_database
url = sys.argv[1]
create_or_verify_database(url, None, {}, app=None, map_install_models=True)
with create_engine(url).connect() as conn:
    version = conn.execute(text("SELECT version FROM migrate_version")).scalar()
print(json.dumps({"dbversion": [f"migrate_version {version}"]}))
"""


def release_tag(release: str, graph: RevisionGraph) -> str:
    """The release's tag as Galaxy writes it: ``23.0``, but ``22.01`` and ``22.05``."""
    major, minor = release.split(".")[:2]
    padded = f"{major}.{int(minor):02d}"
    return padded if graph.tag_revision(padded) else f"{major}.{minor}"


def reverse(db: DatabaseUrl, release: str, graph: RevisionGraph) -> dict:
    tag = release_tag(release, graph)
    revision = graph.tag_revision(tag)
    if revision is None:
        return {"tag": tag, "accepted": None, "why": f"no release tag {tag} in this code"}
    code, stdout, _ = run_cli("downgrade", tag, "--db", db.secret(), "--yes", "--no-backup", "--json")
    report = json.loads(stdout) if stdout.strip().startswith("{") else {}
    rows = sorted((report.get("outcome") or {}).get("alembic_version", []))
    result = {"tag": tag, "revision": revision, "downgraded": bool(report.get("succeeded")), "alembic_version": rows}
    if not result["downgraded"]:
        return result | {"accepted": False, "why": f"the downgrade to {tag} did not finish (exit {code})"}
    return result | old_code_verdict(release, db, MIGRATE_CHECK if revision == "base" else OLD_CODE_CHECK)


def old_code_verdict(release: str, db: DatabaseUrl, check: str = OLD_CODE_CHECK) -> dict:
    """The release's own startup check and ``dbversion`` on ``db``."""
    venv = ensure_release_venv(release, [VENVS, OWN_VENVS], release_python(release))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GALAXY_", "ALEMBIC_", "PYTHON", "RUNBOOK"))}
    with tempfile.TemporaryDirectory(prefix="matrix-old-code-") as folder:  # never the project's galaxy/
        # A configured checkout: before 23.2 Galaxy's scripts need a config file (without one,
        # get_data_dir fails on properties["__file__"] being None), so the database is named there.
        (Path(folder) / "config").mkdir()
        (Path(folder) / "config" / "galaxy.yml").write_text(
            json.dumps({"galaxy": {"database_connection": db.secret()}})
        )
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-c", check, db.secret()],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        return {"accepted": False, "why": lines[-1] if lines else f"exit {proc.returncode}"}
    return {"accepted": True, "dbversion": json.loads(proc.stdout.strip().splitlines()[-1])["dbversion"]}
