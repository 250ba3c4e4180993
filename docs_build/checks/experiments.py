"""Small experiments with Galaxy's own scripts, run at docs-build time and cached.

Each experiment runs ``manage_db.sh`` / ``db_dev.sh`` (Galaxy's argparse builder and
``DbScript``, as ``scripts/db.py`` and ``scripts/db_dev.py`` call them) as ``python -c`` against a
scratch database (``docs_build.checks.python_runner``: forked from a warm interpreter, output equal to a
fresh process's), and records the exit code, what it printed and the
``alembic_version`` rows afterwards. The claims (``docs_build/checks/claims.py``) and the quoted
outputs (``docs_build/checks/snippets.py``) read these records; nothing on a page is typed by hand.

Results are cached per galaxy-data and alembic version and the experiments' code, in the user's
cache (``docs_build/site_build/user_cache.py``), so a rebuild, in this clone or another, costs nothing once
the experiments have run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

from docs_build.checks.python_runner import run_python
from docs_build.settings import DOCS_PG_ENV
from docs_build.site_build import user_cache
from runbooks.paths import PROJECT_ROOT, write_whole
from runbooks.settings import GALAXY_DB_OVERRIDE_ENV, GALAXY_TSI_OVERRIDE_ENV

CACHE_DIR = user_cache.CLAIMS
PG_SERVER = os.environ.get(DOCS_PG_ENV) or "postgresql://postgres@127.0.0.1:5432"
SAMPLE = PROJECT_ROOT / "tests" / "fixtures" / "releases" / "galaxy-data-26.0.2.sqlite.gz"

# What scripts/db.py (manage_db.sh) and scripts/db_dev.py (db_dev.sh) do, with the parser
# docs_build/generated/galaxy_scripts.py assembles from Galaxy's builder. Output goes to the real
# stdout/stderr, so a traceback is the traceback an admin sees.
_RUNNER = """
import sys, logging
sys.path.insert(0, {root!r})
from docs_build.generated.galaxy_scripts import build_script_parser
parser = build_script_parser({script!r})
args = parser.parse_args(sys.argv[1:])
args.func(args)
"""


def _cache_key() -> str:
    """The cache's key: the versions the experiments ran on, and the experiments' own code."""
    here = Path(__file__).parent
    sources = sorted(here.glob("experiments*.py")) + [here.parent / "generated" / "galaxy_scripts.py"]
    code = hashlib.sha256(b"\0".join(path.read_bytes() for path in sources)).hexdigest()[:12]
    return f"galaxy-data-{metadata.version('galaxy-data')}-alembic-{metadata.version('alembic')}-code-{code}"


def run_script(script: str, argv: list[str], url: str, cwd: Path, **env_vars: str) -> dict:
    """Galaxy's ``script`` with ``argv`` against ``url``: exit code, stdout, stderr (the URL masked)."""
    code = _RUNNER.format(root=str(PROJECT_ROOT), script=script)
    env = {**os.environ, GALAXY_DB_OVERRIDE_ENV: url, "PYTHONWARNINGS": "ignore", **env_vars}
    env.pop(GALAXY_TSI_OVERRIDE_ENV, None)
    done = run_python(code, argv, cwd, env)
    return {"rc": done.returncode, "stdout": mask(done.stdout, cwd), "stderr": mask(done.stderr, cwd)}


def mask(text: str, cwd: Path) -> str:
    """Build-machine paths out: the scratch folder shows as ``<dir>``."""
    site_packages = sysconfig.get_paths()["purelib"]
    return (
        text.replace(str(cwd), "<dir>")
        .replace(site_packages, "<site-packages>")
        .replace(str(PROJECT_ROOT), "<project>")
    )


def last_error(stderr: str) -> str:
    """The last ``Type: message`` line of a traceback (what an admin reads first)."""
    lines = [line for line in stderr.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    return lines[-1] if lines else ""


def sqlite_rows(path: Path) -> list[str] | None:
    if not path.exists():
        return None
    with sqlite3.connect(path) as conn:
        try:
            return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
        except sqlite3.OperationalError:
            return []


def sample_copy(folder: Path) -> Path:
    import gzip

    target = folder / "sample.sqlite"
    target.write_bytes(gzip.decompress(SAMPLE.read_bytes()))
    return target


# -- PostgreSQL scratch databases ------------------------------------------------------------------


def _pg(sql: str, dbname: str = "postgres") -> str:
    import psycopg2

    conn = psycopg2.connect(f"{PG_SERVER}/{dbname}")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return str(cur.fetchall()) if cur.description else ""
    finally:
        conn.close()


# A build's scratch databases carry its own token (when it started, and a random part): two builds on
# one server (two clones, a test run beside a writer's build) never drop each other's.
SCRATCH_PREFIX = "docs_claims_"
BUILD_TOKEN = f"{int(time.time())}_{uuid.uuid4().hex[:6]}"
ABANDONED_SECONDS = 86400  # a scratch database this old belongs to a build that was killed


def scratch_name(purpose: str) -> str:
    """``docs_claims_<started>_<random>_<purpose>``: this build's scratch database for ``purpose``."""
    return f"{SCRATCH_PREFIX}{BUILD_TOKEN}_{purpose}"


def drop_abandoned_scratch() -> None:
    """Scratch databases of builds killed a day ago or more (a running build's are never that old)."""
    names = re.findall(r"'([^']+)'", _pg(f"SELECT datname FROM pg_database WHERE datname LIKE '{SCRATCH_PREFIX}%'"))
    for name in names:
        started = re.match(rf"{SCRATCH_PREFIX}(\d+)_", name)
        if started and time.time() - int(started[1]) > ABANDONED_SECONDS:
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_scratch(name: str, create: bool = True) -> str:
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if create:
        _pg(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def _pg_rows(name: str) -> list[str] | None:
    try:
        found = _pg("SELECT version_num FROM alembic_version ORDER BY 1", name)
    except Exception as error:  # the database or the table is not there
        return None if "does not exist" in str(error) and "database" in str(error) else []
    return re.findall(r"'(\w+)'", found)


# -- the experiments -------------------------------------------------------------------------------


def _missing_sqlite(tmp: Path) -> dict:
    db = tmp / "missing.sqlite"
    run = run_script("manage_db.sh", ["upgrade"], f"sqlite:///{db}", tmp)
    return {**run, "created": db.exists(), "rows": sqlite_rows(db)}


def _empty_sqlite(tmp: Path) -> dict:
    db = tmp / "empty.sqlite"
    sqlite3.connect(db).close()
    run = run_script("manage_db.sh", ["upgrade"], f"sqlite:///{db}", tmp)
    return {**run, "rows": sqlite_rows(db)}


def _empty_postgresql(tmp: Path) -> dict:
    name = scratch_name("empty")
    run = run_script("manage_db.sh", ["upgrade"], _pg_scratch(name), tmp)
    rows = _pg_rows(name)
    _pg_scratch(name, create=False)
    return {**run, "error": last_error(run["stderr"]), "rows": rows}


def _missing_postgresql(tmp: Path) -> dict:
    name = scratch_name("missing")
    run = run_script("manage_db.sh", ["upgrade"], _pg_scratch(name, create=False), tmp)
    return {**run, "error": last_error(run["stderr"]), "created": _pg_rows(name) is not None, "database": name}


_TOY_ENV = """
from alembic import context
from sqlalchemy import create_engine
with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def _upgrade_heads_ambiguous(tmp: Path) -> dict:
    """Alembic's messages for a branch with two heads: ``upgrade`` and ``revision`` differ."""
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    folder = tmp / "two-heads"
    versions = folder / "versions"
    versions.mkdir(parents=True)
    (folder / "env.py").write_text(_TOY_ENV)
    (folder / "script.py.mako").write_text("")
    for rev, down, label in (("aaa", None, "('gxy',)"), ("bbb", "'aaa'", None), ("ccc", "'aaa'", None)):
        (versions / f"{rev}_x.py").write_text(
            f"revision = '{rev}'\ndown_revision = {down}\nbranch_labels = {label}\ndepends_on = None\n"
            "def upgrade():\n    pass\ndef downgrade():\n    pass\n"
        )
    cfg = Config()
    cfg.set_main_option("script_location", str(folder))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{tmp / 'x.sqlite'}")
    said = {}
    for name, call in (
        ("upgrade", lambda: command.upgrade(cfg, "gxy@head")),
        ("revision", lambda: command.revision(cfg, message="m", head="gxy@head")),
    ):
        try:
            call()
            said[name] = ""
        except CommandError as error:
            said[name] = str(error)
    return said


def _show_tag(tmp: Path) -> dict:
    db = sample_copy(tmp)
    url = f"sqlite:///{db}"
    show = run_script("scripts/db_dev.sh", ["show", "26.0"], url, tmp)
    show_rev = run_script("scripts/db_dev.sh", ["show", "fac9c76612f9"], url, tmp)
    return {
        "show_tag": {**show, "error": last_error(show["stderr"])},
        "show_rev": show_rev,
    }


def _status_order(tmp: Path) -> dict:
    db = sample_copy(tmp)
    url = f"sqlite:///{db}"
    from runbooks.code.environment import GalaxyEnv
    from runbooks.code.revisions import RevisionGraph
    from runbooks.database.urls import DatabaseUrl
    from runbooks.tasks.status import dbversion_lines, get_status, history_lines, version_lines

    galaxy = {
        name: run_script("scripts/db_dev.sh", argv, url, tmp)["stdout"].splitlines()
        for name, argv in (("dbversion", ["dbversion"]), ("version", ["version"]), ("history", ["history", "-i"]))
    }
    graph = RevisionGraph.load(GalaxyEnv.from_package())
    status = get_status(DatabaseUrl.parse(url), graph)
    ours = {
        "dbversion": dbversion_lines(status, graph),
        "version": version_lines(graph),
        "history": history_lines(graph, status.rows),
    }
    return {"galaxy": galaxy, "ours": ours}


_STARTUP = """
import sys
from galaxy.model.migrations import DatabaseConfig, verify_databases_via_script
config = DatabaseConfig(sys.argv[1], None, None)
try:
    verify_databases_via_script(config, config, False)
except Exception as error:
    print(f"{error.__class__.__name__}: {error}")
"""


def _unknown_revision(tmp: Path) -> dict:
    """Galaxy's startup check and ``dbversion`` on a database at a revision the code does not know."""
    db = sample_copy(tmp)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff' WHERE version_num = '9930b68c85af'")
    done = run_python(_STARTUP, [f"sqlite:///{db}"], Path.cwd())
    dbversion = run_script("scripts/db_dev.sh", ["dbversion"], f"sqlite:///{db}", tmp)
    return {"startup": mask(done.stdout.strip(), tmp), "dbversion": dbversion}


def _revision_files(tmp: Path) -> dict:
    """A copy of Galaxy's alembic folder with a revision in the wrong place and one that fails to import."""
    import shutil

    import galaxy.model.migrations as migrations

    source = Path(migrations.__file__).parent
    copy = tmp / "migrations"
    shutil.copytree(source / "alembic", copy / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(source / "alembic.ini", copy / "alembic.ini")
    db = sample_copy(tmp)
    url = f"sqlite:///{db}"
    ini = {"ALEMBIC_CONFIG": str(copy / "alembic.ini")}
    head = "fac9c76612f9"
    body = f"revision = '{{rev}}'\ndown_revision = '{head}'\nbranch_labels = None\ndepends_on = None\n"
    body += "{extra}\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n"
    (copy / "alembic" / "abcdef012345_misplaced.py").write_text(body.format(rev="abcdef012345", extra=""))
    misplaced = run_script("scripts/db_dev.sh", ["show", "abcdef012345"], url, tmp, **ini)
    (copy / "alembic" / "abcdef012345_misplaced.py").unlink()
    broken = copy / "alembic" / "versions_gxy" / "abcdef012345_broken.py"
    broken.write_text(body.format(rev="abcdef012345", extra="from galaxy.model.custom_types import NoSuchType"))
    failing = run_script("scripts/db_dev.sh", ["show", "abcdef012345"], url, tmp, **ini)
    return {
        "misplaced": misplaced,
        "broken": {**failing, "error": last_error(failing["stderr"])},
    }


EXPERIMENTS: dict[str, Callable[[Path], dict]] = {
    "missing-sqlite": _missing_sqlite,
    "empty-sqlite": _empty_sqlite,
    "empty-postgresql": _empty_postgresql,
    "missing-postgresql": _missing_postgresql,
    "two-heads": _upgrade_heads_ambiguous,
    "show-tag": _show_tag,
    "status-order": _status_order,
    "unknown-revision": _unknown_revision,
    "revision-files": _revision_files,
}


def _run_one(name: str) -> dict:
    path = CACHE_DIR / _cache_key() / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    with tempfile.TemporaryDirectory(prefix="claims-") as folder:
        result = EXPERIMENTS[name](Path(folder))
    write_whole(path, json.dumps(result, indent=1))  # a test worker or build may read it meanwhile
    return result


_results: dict[str, dict] = {}


def experiment(name: str) -> dict:
    if name not in _results:
        _results[name] = _run_one(name)
    return _results[name]


def run_all() -> None:
    """Run every experiment not in the cache yet, two at a time (the machine is shared)."""
    pending = [n for n in EXPERIMENTS if n not in _results]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, result in zip(pending, pool.map(_run_one, pending), strict=True):
            _results[name] = result
