"""Galaxy issue 20614: "Galaxy 25 fails to migrate database: galaxy.model.migrations.exceptions.NoVersionTableError"
— the Ansible role's database task, then `manage_db.sh` by hand, looked at a SQLite file, not the
PostgreSQL database being upgraded from 24.2 (Galaxy's maintainer: "it must be looking at a different
database ... is the right config file loaded"). Galaxy issue 15839 is the same error on 22.05.

Made the way the reporter's came to be: the Ansible layout (the checkout in ``server/``, its configuration
in ``config/galaxy.yml`` beside it, naming PostgreSQL), the database made by Galaxy 24.2.4's own code
(tests/fixtures/releases). Galaxy's own script code (``LegacyManageDb``, what ``scripts/manage_db.py`` runs)
is run from the checkout without ``-c``: it finds no galaxy.yml there, falls back to
``database/universe.sqlite`` and raises NoVersionTableError. The fix: name the config file (``-c``), or
for the runbooks ``--db``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from runbooks.tasks.migrate import read_rows

from conftest import postgresql_from_release, run_cli

REPORT = "https://github.com/galaxyproject/galaxy/issues/20614"
GALAXY_SAID = "NoVersionTableError: Your galaxy database has no version table; manual update is required"
DOCTOR_CODE = "database-configured-elsewhere"
AT_24_2 = {"a4c3ef999ab5", "d4a650f47a3c"}
# The Ansible role's `scripts/manage_db.py [-c CONFIG] db_version`: its call into Galaxy's code, argv as it has it.
LEGACY_MANAGE_DB = (
    "import sys\n"
    "sys.argv = ['scripts/manage_db.py', *sys.argv[1:], 'db_version']\n"
    "from galaxy.model.migrations.scripts import LegacyManageDb\n"
    "print(LegacyManageDb().get_gxy_db_version())\n"
)


def _ansible_layout(tmp_path, env, url: str):
    """srv/galaxy/server: a checkout (Galaxy's code, found as from source); srv/galaxy/config/galaxy.yml."""
    home = tmp_path / "srv" / "galaxy"
    server = home / "server"
    (server / "lib" / "galaxy").mkdir(parents=True)
    (server / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    (server / "scripts").mkdir()
    for marker in ("run.sh", "scripts/common_startup.sh"):  # what Galaxy checks to know it runs from source
        (server / marker).write_text("")
    (server / "config").mkdir()
    (server / "config" / "galaxy.yml.sample").write_text("galaxy:\n  #database_connection: null\n")
    (server / "database").mkdir()
    (home / "config").mkdir()
    (home / "config" / "galaxy.yml").write_text(f"galaxy:\n  database_connection: '{url}'\n")
    return server, home / "config" / "galaxy.yml"


def _galaxy_version(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", LEGACY_MANAGE_DB, *args], cwd=server, capture_output=True, text=True, timeout=300
    )


def test_replay_20614(tmp_path, env, pg_database):
    db = postgresql_from_release("24.2.4.data", pg_database())
    server, config = _ansible_layout(tmp_path, env, db.secret())
    galaxy = _galaxy_version(server)  # as the reporter ran it by hand: no -c
    assert galaxy.returncode != 0 and "NoVersionTableError" in galaxy.stderr, galaxy.stderr[-2000:]
    assert (server / "database" / "universe.sqlite").exists()  # Galaxy's default file, made by that call
    # The runbooks on the same checkout: which database, from where, and the warning naming the real one.
    status = run_cli("status", "--json", "--galaxy-root", str(server))
    report = json.loads(status.stdout)
    assert report["database_source"]["source"] == "galaxy-default", report["database_source"]
    assert "universe.sqlite" in report["database"] and "postgresql" in status.stderr and str(config) in status.stderr
    doctor = json.loads(run_cli("troubleshoot", "--json", "--galaxy-root", str(server)).stdout)
    warned = [f for f in doctor["findings"] if f["code"] == DOCTOR_CODE]
    assert warned and str(config) in warned[0]["summary"] and db.database_name in warned[0]["summary"]
    # The fix: Galaxy's script told which config (-c), and the runbooks given the database.
    fixed = _galaxy_version(server, "-c", str(config))
    assert fixed.returncode == 0 and fixed.stdout.strip() == "a4c3ef999ab5", fixed.stderr[-2000:]
    chosen = json.loads(run_cli("status", "--json", "--db", db.secret(), "--galaxy-root", str(server)).stdout)
    assert chosen["branches"]["gxy"]["release"] == "24.2" and chosen["database_source"]["source"] == "argument"
    assert set(read_rows(db)) == AT_24_2  # nothing above wrote to it
