"""A downgrade to a release tag leaves a database that release's own code accepts.

Each older galaxy-data is installed in a throwaway venv (cached in .runbooks/release-venvs)
and runs its own startup check (``verify_databases_via_script``) and ``dbversion`` on the
database our downgrade produced. Galaxy's plain downgrade across merge revisions leaves rows
the old code cannot read; ours must not.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from runbooks.galaxy import commands as galaxy_commands
from runbooks.settings import GALAXY_DB_OVERRIDE_ENV, RELEASE_VENVS_ENV

from conftest import OLD_RELEASES, file_lock, run_cli
from fixtures.make_release_fixtures import ensure_venv, venv_python

# Old releases' venvs live in the user's cache, so a fresh clone (CI) reuses them; made once, under a lock.
VENVS = Path(os.environ.get(RELEASE_VENVS_ENV) or Path.home() / ".cache" / "galaxy-migrations" / "release-venvs")
OLD_CODE_CHECK = """
import io, json, os, sys
from argparse import Namespace
from galaxy.model.migrations import DatabaseConfig, verify_databases_via_script
url = sys.argv[1]
config = DatabaseConfig(url, None, None)
verify_databases_via_script(config, config, False)
os.environ[sys.argv[2]] = url  # Galaxy's database override, named by the caller
from galaxy.model.migrations.dbscript import DbScript
script = DbScript()
out = io.StringIO()
script.alembic_config.stdout = out
script.dbversion(Namespace(verbose=False))
print(json.dumps({"dbversion": sorted(out.getvalue().split(chr(10)))}))
"""


def old_release_check(release: str, url: str, workdir) -> subprocess.CompletedProcess:
    venv = VENVS / release
    with file_lock(VENVS / f"{release}.lock"):  # two test workers never build the same venv at once
        ensure_venv(release, venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GALAXY_", "ALEMBIC_", "PYTHON", "RUNBOOK"))}
    return subprocess.run(
        [str(venv_python(venv)), "-c", OLD_CODE_CHECK, url, GALAXY_DB_OVERRIDE_ENV],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )


def accepted_rows(result) -> set[str]:
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1]
    return {line for line in json.loads(result.stdout.strip().splitlines()[-1])["dbversion"] if line}


@pytest.mark.parametrize("release", sorted(OLD_RELEASES))
def test_sqlite_downgrade_is_accepted_by_that_release(release, sqlite_db, graph, tmp_path):
    tag = OLD_RELEASES[release]
    db = sqlite_db("head")
    result = run_cli("downgrade", tag, "--db", db.secret(), "--yes", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    check = old_release_check(release, db.secret(), tmp_path)
    assert accepted_rows(check) == {f"{graph.tag_revision(tag)} (head)", "d4a650f47a3c (head)"}


@pytest.mark.parametrize("release", sorted(OLD_RELEASES))
def test_postgresql_downgrade_is_accepted_by_that_release(release, pg_database, graph, tmp_path):
    from runbooks.tasks.samples import make_sample

    tag = OLD_RELEASES[release]
    db = pg_database()
    make_sample(db, None, graph)
    result = run_cli("downgrade", tag, "--db", db.secret(), "--yes", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    check = old_release_check(release, db.secret(), tmp_path)
    assert accepted_rows(check) == {f"{graph.tag_revision(tag)} (head)", "d4a650f47a3c (head)"}


def test_galaxy_plain_downgrade_leaves_rows_the_old_release_cannot_read(sqlite_db, tmp_path):
    """Why our downgrade adds steps: the contrast, with Galaxy's own command."""
    db = sqlite_db("head")
    galaxy_commands.run_dbscript(db, "downgrade", revision="25.0")
    check = old_release_check("25.0.4", db.secret(), tmp_path)
    assert check.returncode != 0
    assert "Can't locate revision identified by 'fb16d09348db'" in check.stderr
