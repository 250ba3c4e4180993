"""More experiments with Galaxy's own code, for the topics the pages cover beyond the fixes.

Registered into ``docs_build.checks.experiments.EXPERIMENTS`` (same cache, same runner): several
current revisions after a plain downgrade, where the scripts take their database URLs from,
Galaxy's ``run_alembic.sh`` forms (with offline ``--sql``), a tsi-only revision, and the first
upgrade of a database SQLAlchemy Migrate handed over at version 180.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from docs_build.checks.experiments import (
    EXPERIMENTS,
    PG_SERVER,
    _pg,
    _pg_scratch,
    last_error,
    mask,
    run_script,
    sample_copy,
    scratch_name,
    sqlite_rows,
)
from docs_build.checks.python_runner import run_python
from runbooks.settings import GALAXY_DB_OVERRIDE_ENV, GALAXY_TSI_OVERRIDE_ENV

# What scripts/run_alembic.py does in a checkout: both URLs from Galaxy's configuration, passed
# to env.py as ``-x gxy_url=… -x tsi_url=…``, then Alembic's own command line
# (``upgrade heads`` becomes gxy@head, then tsi@head).
RUN_ALEMBIC = """
import os, sys
from galaxy.model.migrations.scripts import add_db_urls_to_command_arguments, get_configuration, invoke_alembic
gxy, tsi, _ = get_configuration(sys.argv, os.getcwd())
add_db_urls_to_command_arguments(sys.argv, gxy.url, tsi.url)
invoke_alembic()
"""


def run_alembic(argv: list[str], url: str, cwd: Path, ini: Path | None = None) -> dict:
    import galaxy.model.migrations as migrations

    ini = ini or Path(migrations.__file__).parent / "alembic.ini"
    env = {**os.environ, GALAXY_DB_OVERRIDE_ENV: url, "ALEMBIC_CONFIG": str(ini)}
    env["PYTHONWARNINGS"] = "ignore"
    env.pop(GALAXY_TSI_OVERRIDE_ENV, None)
    done = run_python(RUN_ALEMBIC, argv, cwd, env, timeout=600)
    out = {"rc": done.returncode, "stdout": mask(done.stdout, cwd), "stderr": mask(done.stderr, cwd)}
    return {**out, "error": last_error(out["stderr"]) or _failed(out["stdout"] + out["stderr"])}


def _failed(text: str) -> str:
    return next((line for line in text.splitlines() if line.startswith("FAILED:")), "")


def _multiple_current(tmp: Path) -> dict:
    """Galaxy's plain ``downgrade 25.0`` from 26.0, then what ``-1``, ``+1`` and ``dbversion`` say."""
    db = sample_copy(tmp)
    url = f"sqlite:///{db}"
    down = run_script("manage_db.sh", ["downgrade", "25.0"], url, tmp)
    rows = sqlite_rows(db)
    steps = {}
    for name, argv in (("minus", ["downgrade", "-1"]), ("plus", ["upgrade", "+1"]), ("dbversion", ["dbversion"])):
        run = run_script("manage_db.sh", argv, url, tmp)
        steps[name] = {"rc": run["rc"], "stdout": run["stdout"], "error": last_error(run["stderr"])}
        assert sqlite_rows(db) == rows, name  # a failing step changes nothing
    return {"rc": down["rc"], "rows": rows, **steps}


_CONFIG = """
import json, os, sys
from galaxy.model.migrations.scripts import get_configuration, get_configuration_from_file
found = {}
def urls(name, **env):
    for key in [k for k in os.environ if k.startswith(("GALAXY_CONFIG_", "GALAXY_INSTALL_CONFIG_"))]:
        del os.environ[key]
    os.environ.update(env)
    gxy, tsi, auto = get_configuration_from_file(os.getcwd(), found.pop("file", None))
    found[name] = {"gxy": gxy.url, "tsi": tsi.url}
urls("no-config")
os.mkdir("config")
with open("config/galaxy.yml", "w") as f:
    f.write("galaxy:\\n  database_connection: postgresql://galaxy@db/from_config_galaxy_yml\\n")
with open("other.yml", "w") as f:
    f.write("galaxy:\\n  database_connection: postgresql://galaxy@db/from_other_yml\\n")
urls("config-galaxy-yml")
found["file"] = "other.yml"; urls("galaxy-config-other-yml")
urls("gxy-override", GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION="postgresql://galaxy@db/from_override")
urls("tsi-override-install", GALAXY_INSTALL_CONFIG_OVERRIDE_INSTALL_DATABASE_CONNECTION="postgresql://galaxy@db/tsi")
urls("tsi-override-database", GALAXY_INSTALL_CONFIG_OVERRIDE_DATABASE_CONNECTION="postgresql://galaxy@db/tsi")
urls("gxy-override-install", GALAXY_CONFIG_OVERRIDE_INSTALL_DATABASE_CONNECTION="postgresql://galaxy@db/tsi")
for form in ("--galaxy-config", "-c"):
    argv = ["manage_db.sh", form, "other.yml", "init"]
    found["init " + form] = get_configuration(argv, os.getcwd())[0].url
print(json.dumps(found))
"""


def _config_sources(tmp: Path) -> dict:
    """Where ``get_configuration_from_file`` (every script's first step) finds the two URLs."""
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GALAXY_CONFIG_", "GALAXY_INSTALL_CONFIG_"))}
    done = run_python(_CONFIG, [], tmp, env)
    if done.returncode != 0:
        raise RuntimeError(f"the configuration experiment failed: {done.stderr.strip()[-500:]}")
    return json.loads(mask(done.stdout, tmp))


def _copy_migrations(tmp: Path) -> Path:
    import galaxy.model.migrations as migrations

    source = Path(migrations.__file__).parent
    copy = tmp / "migrations"
    shutil.copytree(source / "alembic", copy / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(source / "alembic.ini", copy / "alembic.ini")
    return copy / "alembic.ini"


def _run_alembic_forms(tmp: Path) -> dict:
    """Galaxy's ``run_alembic.sh`` on a database at 26.0: relative steps, ``heads``, offline, tsi-only."""
    db = sample_copy(tmp)
    url = f"sqlite:///{db}"
    found = {"start": sqlite_rows(db)}
    for name, argv in (
        ("gxy+1", ["upgrade", "gxy@+1"]),
        ("gxy-1", ["downgrade", "gxy@-1"]),
        ("bare+1", ["upgrade", "+1"]),
        ("heads", ["upgrade", "heads"]),
        ("sql-no-range", ["downgrade", "--sql", "gxy@-1"]),
        ("sql-range", ["downgrade", "--sql", "fac9c76612f9:9930b68c85af"]),
    ):
        found[name] = {**run_alembic(argv, url, tmp), "rows": sqlite_rows(db)}
    ini = _copy_migrations(tmp)
    argv = ["revision", "--head=tsi@head", "-m", "tsi change", "--rev-id", "0123456789ab"]
    found["tsi-revision"] = run_alembic(argv, url, tmp, ini)
    found["tsi-heads"] = run_alembic(["heads"], url, tmp, ini)
    return found


def _handed_over(tmp: Path) -> dict:
    """A database at the schema SQLAlchemy Migrate 180 describes, then ``manage_db.sh upgrade`` (no revision)."""
    from runbooks.code.environment import GalaxyEnv
    from runbooks.code.revisions import RevisionGraph
    from runbooks.database.urls import DatabaseUrl
    from runbooks.tasks.samples import make_sample
    from runbooks.testing.scratch_states import execute_sql, states

    graph = RevisionGraph.load(GalaxyEnv.from_package())
    db = tmp / "legacy.sqlite"
    url = f"sqlite:///{db}"
    make_sample(DatabaseUrl.parse(url), "base", graph)  # Galaxy's downgrade to 22.01
    execute_sql(DatabaseUrl.parse(url), states(graph)["migrate-needs-alembic"].sql)
    run = run_script("manage_db.sh", ["upgrade"], url, tmp)
    with sqlite3.connect(db) as conn:
        migrate = conn.execute("SELECT version FROM migrate_version").fetchall()
    upgrades = [line for line in run["stderr"].splitlines() if "Running upgrade" in line]
    return {
        "rc": run["rc"],
        "rows": sqlite_rows(db),
        "migrate_version": [r[0] for r in migrate],
        "upgrades": len(upgrades),
        "first": upgrades[:2],
        "last": upgrades[-1:],
    }


def _pg_row(sql: str) -> tuple:
    import psycopg2

    conn = psycopg2.connect(f"{PG_SERVER}/postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()
    finally:
        conn.close()


COPY_TRIES = 3


def _copy_strategies(tmp: Path) -> dict:
    """WAL written and checkpoints requested by CREATE DATABASE ... TEMPLATE with each PostgreSQL 15 strategy.

    The WAL position is the server's: whatever other sessions write meanwhile (a test run's other
    workers) adds to it. Each copy is made ``COPY_TRIES`` times and the least WAL kept, the closest
    to what the copy alone wrote (seen: one FILE_COPY beside a busy test run counted 5.9 MB).
    """
    template, copy = scratch_name("copy_template"), scratch_name("copy")
    _pg_scratch(template)
    _pg("CREATE TABLE filler AS SELECT g AS id, repeat('x', 200) AS text FROM generate_series(1, 200000) g", template)
    found = {"template_bytes": int(_pg_row(f"SELECT pg_database_size('{template}')")[0])}
    for strategy in ("WAL_LOG", "FILE_COPY"):
        tries = [_one_copy(template, copy, strategy) for _ in range(COPY_TRIES)]
        found[strategy] = min(tries, key=lambda one: one["wal_bytes"])
    _pg(f'DROP DATABASE IF EXISTS "{copy}"')
    _pg(f'DROP DATABASE IF EXISTS "{template}"')
    return found


def _one_copy(template: str, copy: str, strategy: str) -> dict:
    _pg(f'DROP DATABASE IF EXISTS "{copy}"')
    lsn, requested = _pg_row("SELECT pg_current_wal_lsn()::text, checkpoints_req FROM pg_stat_bgwriter")
    _pg(f'CREATE DATABASE "{copy}" TEMPLATE "{template}" STRATEGY {strategy}')
    wal, now_requested = _pg_row(
        f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{lsn}')::bigint, checkpoints_req FROM pg_stat_bgwriter"
    )
    return {"wal_bytes": int(wal), "checkpoints_requested": now_requested - requested}


EXPERIMENTS.update(
    {
        "copy-strategies": _copy_strategies,
        "multiple-current": _multiple_current,
        "config-sources": _config_sources,
        "run-alembic": _run_alembic_forms,
        "handed-over": _handed_over,
    }
)
