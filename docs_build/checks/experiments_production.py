"""Experiments for the production page: what Galaxy's Ansible role sees, this project's playbook in
``--check`` and for real, and a PostgreSQL upgrade stopped by a lock, with the way out.

Registered into ``docs_build.checks.experiments.EXPERIMENTS`` (same cache, same runner). Each runs
the real thing: Galaxy's ``LegacyManageDb`` (what ``scripts/manage_db.py`` calls for the role),
``ansible-playbook`` on ``deploy/ansible/upgrade.yml``, and the tool's own commands.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

from docs_build.checks.experiments import _STARTUP, EXPERIMENTS, SAMPLE, _pg, _pg_scratch, mask, scratch_name
from docs_build.checks.python_runner import run_python
from runbooks.paths import PROJECT_ROOT
from runbooks.settings import DB_URL_ENV, GALAXY_DB_OVERRIDE_ENV, GALAXY_TSI_OVERRIDE_ENV, HOME_ENV, PROGRAM_ENV

# scripts/manage_db.py in a Galaxy checkout (the entry point the galaxyproject.galaxy role runs):
# ``version`` prints the gxy head of the code, ``db_version`` the gxy revision of the database.
LEGACY_MANAGE_DB = """
import sys
from galaxy.model.migrations.scripts import LegacyManageDb
command = sys.argv[-1]
lmdb = LegacyManageDb()
result = {"version": lmdb.get_gxy_version, "db_version": lmdb.get_gxy_db_version}.get(command, lmdb.run_upgrade)()
if result:
    print(result)
"""


def _sample(folder: Path) -> Path:
    path = folder / "galaxy.sqlite"
    path.write_bytes(gzip.decompress(SAMPLE.read_bytes()))
    return path


def _legacy(command: str, url: str, folder: Path) -> str:
    env = {**os.environ, GALAXY_DB_OVERRIDE_ENV: url, "PYTHONWARNINGS": "ignore"}
    env.pop(GALAXY_TSI_OVERRIDE_ENV, None)
    done = run_python(LEGACY_MANAGE_DB, ["manage_db.py", command], folder, env)
    return done.stdout.strip() if done.returncode == 0 else f"exit {done.returncode}"


def _role_view(folder: Path) -> dict:
    """The role's two readings on a 26.0 database, before and after its upgrade, and with only the
    tsi row gone (a database Galaxy refuses to start with)."""
    path = _sample(folder)
    url = f"sqlite:///{path}"
    before = {"version": _legacy("version", url, folder), "db_version": _legacy("db_version", url, folder)}
    _legacy("upgrade", url, folder)
    after = {"version": _legacy("version", url, folder), "db_version": _legacy("db_version", url, folder)}
    import sqlite3

    with sqlite3.connect(path) as conn:
        tsi = conn.execute("SELECT version_num FROM alembic_version WHERE version_num = 'd4a650f47a3c'").fetchall()
        conn.execute("DELETE FROM alembic_version WHERE version_num = 'd4a650f47a3c'")
    no_tsi = {"version": _legacy("version", url, folder), "db_version": _legacy("db_version", url, folder)}
    startup = run_python(_STARTUP, [url], folder).stdout.strip()
    status = _tool(["status", "--json", "--db", url], folder)
    return {
        "before": before,
        "after": after,
        "tsi_row_was": [r[0] for r in tsi],
        "no_tsi": no_tsi,
        "no_tsi_status_rc": status["rc"],
        "no_tsi_startup": mask(startup, folder),
    }


def _tool(argv: list[str], folder: Path, env: dict | None = None, timeout: int = 600) -> dict:
    # printed commands in the installed form, as the page shows them
    environment = {**os.environ, HOME_ENV: str(folder / "home"), PROGRAM_ENV: "galaxy-migrations", **(env or {})}
    environment.pop(DB_URL_ENV, None) if not env or DB_URL_ENV not in env else None
    done = subprocess.run(
        [sys.executable, "-m", "runbooks", *argv],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return {"rc": done.returncode, "stdout": mask(done.stdout, folder), "stderr": mask(done.stderr, folder)}


def _playbook(folder: Path) -> dict:
    """deploy/ansible/upgrade.yml on a 26.0 database: --check, a real run, a second run."""
    path = _sample(folder)
    variables = (
        f'{{"galaxy_migrations_db_url": "sqlite:///{path}", "galaxy_migrations_hosts": "localhost",'
        f' "galaxy_migrations_command": "{sys.executable} -m runbooks",'
        f' "galaxy_migrations_home": "{folder / "home"}"}}'
    )
    env = {**os.environ, "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_NOCOLOR": "1"}
    env |= {"ANSIBLE_LOCAL_TEMP": str(folder / "ansible-tmp"), "ANSIBLE_HOME": str(folder / "ansible")}
    env.pop(DB_URL_ENV, None)
    runs = {}
    for name, extra in (("check", ["--check"]), ("real", []), ("again", [])):
        command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local"]
        command += ["deploy/ansible/upgrade.yml", "-e", variables, *extra]
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
        text = done.stdout.replace(sys.executable, "python").replace(str(folder), "<dir>")
        runs[name] = {"rc": done.returncode, "stdout": text}
    return runs


def _pg_lock_timeout(folder: Path) -> dict:
    """A 26.0 PostgreSQL database and a forgotten session holding a read on ``page`` (which a pending
    revision alters): the upgrade refused by the pre-flight, troubleshoot's findings, the upgrade
    told to go ahead with a lock timeout (it stops, read back), then the upgrade after the session ends."""
    import json

    from runbooks.database.urls import DatabaseUrl
    from runbooks.testing.locks import idle_in_transaction

    name = scratch_name("production_lock")
    url = _pg_scratch(name, create=False)
    runs = {"sample_rc": _tool(["sample", "--release", "26.0", url], folder)["rc"]}
    env = {DB_URL_ENV: url}
    lock = ["--lock-timeout", "2s", "--retries", "1"]
    try:
        with idle_in_transaction(DatabaseUrl.parse(url), table="page") as pid:
            runs["refused"] = _tool(["upgrade", "--yes", "--no-backup", *lock], folder, env)
            found = json.loads(_tool(["troubleshoot", "--no-rehearse", "--json"], folder, env)["stdout"])
            runs["findings"] = [
                f
                for f in found["findings"]
                if f["code"] in ("database-behind", "active-sessions") and f["severity"] != "info"
            ]
            runs["timed_out"] = _tool(["upgrade", "--yes", "--no-backup", "--ignore-sessions", *lock], folder, env)
        runs["again"] = _tool(["upgrade", "--yes", "--no-backup", *lock], folder, env)
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return _renamed(runs, {name: "galaxy", str(pid): "<pid>"})


def _renamed(value, names: dict[str, str]):
    if isinstance(value, dict):
        return {key: _renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    if isinstance(value, str):
        for old, new in names.items():
            value = value.replace(old, new)
        return re.sub(r"pid \d+", "pid <pid>", value)
    return value


EXPERIMENTS.update(
    {
        "production-role-view": _role_view,
        "production-playbook": _playbook,
        "production-pg-lock-timeout": _pg_lock_timeout,
    }
)


# -- the Tool Shed server's own database --------------------------------------------------------------

TOOL_SHED_FILES = "tool_shed/webapp/model/migrations/"


def _tool_shed(folder: Path) -> dict:
    """The Tool Shed's migrations, read from the galaxy-tool-shed wheel of the same release as
    galaxy-data (downloaded, never installed), and what this tool does with a database at its head."""
    import ast
    import zipfile
    from importlib import metadata

    version = metadata.version("galaxy-data")
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"galaxy-tool-shed=={version}"]
    subprocess.run([*command, "-d", str(folder)], check=True, capture_output=True, timeout=600)
    wheel = zipfile.ZipFile(next(folder.glob("galaxy_tool_shed-*.whl")))
    files = {name: wheel.read(name).decode() for name in wheel.namelist() if name.startswith(TOOL_SHED_FILES)}

    def constant(name: str, target: str):
        tree = ast.parse(files[TOOL_SHED_FILES + name])
        node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == target)
        return ast.literal_eval(node.value)

    revisions = []
    for name, text in sorted(files.items()):
        if "/versions/" in name and name.endswith(".py"):
            doc = ast.get_docstring(ast.parse(text)) or ""
            revisions.append(
                {
                    "id": re.search(r'^revision = "(\w+)"', text, re.M)[1],
                    "down": re.search(r"^down_revision = (.+)$", text, re.M)[1].strip("\"'"),
                    "message": doc.splitlines()[0] if doc else "",
                }
            )
    ids = {r["id"] for r in revisions}
    head = next(r["id"] for r in revisions if not any(o["down"] == r["id"] for o in revisions))
    path = folder / "community.sqlite"
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (head,))
    url = f"sqlite:///{path}"
    return {
        "version": version,
        "revisions": revisions,
        "head": head,
        "branch_labels": "branch_labels" in "".join(t for n, t in files.items() if "/versions/" in n)
        and any(re.search(r"^branch_labels = \(", t, re.M) for t in files.values()),
        "known_to_galaxy": sorted(ids),
        "migrate_last": constant("__init__.py", "SQLALCHEMYMIGRATE_LAST_VERSION"),
        "config_names": constant("scripts.py", "DEFAULT_CONFIG_NAMES"),
        "config_prefix": constant("scripts.py", "TOOLSHED_CONFIG_PREFIX"),
        "tags": sorted(constant("dbscript.py", "REVISION_TAGS")),
        "status": _tool(["status", "--db", url, "--history", "0"], folder),
        "upgrade": _tool(["upgrade", "--db", url, "--yes", "--no-backup"], folder),
        "rows_after": [row[0] for row in sqlite3.connect(path).execute("SELECT version_num FROM alembic_version")],
    }


EXPERIMENTS["production-tool-shed"] = _tool_shed


# -- from before 22.05: SQLAlchemy Migrate, then Alembic ------------------------------------------------


def _from_migrate(folder: Path) -> dict:
    """A PostgreSQL database Galaxy 21.09 made (Migrate version 179): what this tool says, release
    22.01's own ``manage_db.sh upgrade`` to 180, then this tool's upgrade to head, read back."""
    sys.path.insert(0, str(PROJECT_ROOT / "tests" / "fixtures"))
    from legacy_galaxy import manage_db, release_2201_tree

    dump = PROJECT_ROOT / "tests" / "fixtures" / "releases" / "galaxy-data-21.9.0.migrate.postgresql.sql.gz"
    name = scratch_name("from_migrate")
    url = _pg_scratch(name)
    psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", url]
    subprocess.run(psql, input=gzip.decompress(dump.read_bytes()), check=True, capture_output=True)
    env = {DB_URL_ENV: url}
    steps = {}
    try:
        steps["status"] = _tool(["status", "--history", "0"], folder, env)
        steps["refused"] = _tool(["upgrade", "--yes", "--no-backup"], folder, env)
        tree = release_2201_tree(folder / "galaxy-22.01")
        legacy = manage_db(tree, url, "upgrade")
        steps["release_2201"] = {
            "rc": legacy.returncode,
            "stdout": mask(legacy.stdout, folder),
            "stderr": mask(legacy.stderr, folder)[-3000:],
        }
        steps["handed_over"] = _tool(["status", "--history", "0"], folder, env)
        steps["upgrade"] = _tool(["upgrade", "--yes", "--no-backup"], folder, env)
        steps["after"] = _tool(["status", "--json"], folder, env)
        steps["startup"] = mask(run_python(_STARTUP, [url], folder).stdout.strip(), folder) or "OK"
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return _renamed(steps, {name: "galaxy"})


EXPERIMENTS["production-from-migrate"] = _from_migrate
