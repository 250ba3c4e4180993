"""Shared fixtures: real Galaxy databases made by Galaxy's own code, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from docs_build.site_build.execution import file_lock  # noqa: F401  (one lock for builds and test workers)
from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.settings import CACHE_ENV, DB_URL_ENV, HOME_ENV, TEST_PG_ENV

from docs_site import use_the_build_cache
from shared_run import finish_run, made_once, pg_prefix, run_folder, start_run

PROJECT = Path(__file__).resolve().parent.parent
# Tests never touch the project's own .runbooks/ (sample database, backups): a home of their own.
os.environ.setdefault(HOME_ENV, tempfile.mkdtemp(prefix="runbooks-test-home-"))
# What is derived from the code alone (the baseline, model comparisons, a head database) is made once
# per run, whichever test or subprocess needs it first, whatever home it was given.
os.environ.setdefault(CACHE_ENV, str(run_folder() / "caches"))
PG_ADMIN_URL = os.environ.get(TEST_PG_ENV, "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Runbooks the tests read as the site shows them come from the session's site build (tests/docs_site.py).
use_the_build_cache()


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller: workers inherit the run's id
        start_run()


# Files whose tests need the built site. The build (every runbook executed) is the longest single
# step of a run: the first worker to collect one of them starts it in a background thread, and
# those tests run last, when it is done, on whichever worker is free.
SITE_FILES = {"test_docs.py", "test_browser.py", "test_docs_execution.py"}
# The longest single tests start first, so that no worker is left running one alone at the end.
LONG_FILES = ("test_doctor_postgresql.py", "test_doctor.py", "test_checkouts.py", "test_downgrade_releases.py")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        if _reads_the_site(item):
            return len(LONG_FILES) + 2
        return LONG_FILES.index(item.path.name) if item.path.name in LONG_FILES else len(LONG_FILES) + 1

    items.sort(key=rank)  # stable: within a rank, collection order


def _reads_the_site(item) -> bool:
    return item.path.name in SITE_FILES or getattr(getattr(item, "function", None), "reads_the_site_build", False)


def pytest_collection_finish(session):
    """After deselection (``-k``, ``-m``): only a run that has site tests left builds the site."""
    if session.config.option.collectonly:
        return
    if any(map(_reads_the_site, session.items)):
        from docs_site import build_in_background

        build_in_background()


def pytest_sessionfinish(session):
    from docs_site import stop_background_build

    stop_background_build()
    if hasattr(session.config, "workerinput"):
        return
    if _pg_reachable() is None:
        admin = DatabaseUrl.parse(PG_ADMIN_URL)
        for name in _databases_named(admin, pg_prefix()):
            _admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finish_run()


def _databases_named(admin: DatabaseUrl, prefix: str) -> list[str]:
    from runbooks.database.connections import connect_postgresql

    conn = connect_postgresql(admin)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,))
            return [row[0] for row in cursor.fetchall()]
    finally:
        conn.close()


@pytest.fixture(scope="session")
def env() -> GalaxyEnv:
    return GalaxyEnv.from_package()


@pytest.fixture(scope="session")
def graph(env) -> RevisionGraph:
    return RevisionGraph.load(env)


# -- SQLite databases in named states ------------------------------------------


@pytest.fixture(scope="session")
def sqlite_store(tmp_path_factory, graph):
    """Databases made once per test run (Galaxy's init, then Galaxy's downgrade); tests get copies."""
    from runbooks.tasks.samples import make_sample

    folder = run_folder() / "samples"
    folder.mkdir(exist_ok=True)

    def path_for(target: str) -> Path:
        def make(path: Path) -> None:
            make_sample(DatabaseUrl.parse(f"sqlite:///{path}"), None if target == "head" else target, graph)

        return made_once(folder / f"{target.replace('@', '_')}.sqlite", make)

    return path_for


@pytest.fixture
def sqlite_db(sqlite_store, tmp_path):
    """``sqlite_db("25.0")``: a private copy of a database Galaxy made and moved to that target."""

    def copy(target: str = "head") -> DatabaseUrl:
        path = tmp_path / f"{uuid.uuid4().hex[:8]}.sqlite"
        shutil.copyfile(sqlite_store(target), path)
        return DatabaseUrl.parse(f"sqlite:///{path}")

    return copy


# -- PostgreSQL -----------------------------------------------------------------


def _pg_reachable() -> str | None:
    from runbooks.database.connections import connect_postgresql
    from runbooks.errors import RunbookError

    try:
        connect_postgresql(DatabaseUrl.parse(PG_ADMIN_URL)).close()
        return None
    except RunbookError as error:
        return str(error)


@pytest.fixture(scope="session")
def pg_admin() -> DatabaseUrl:
    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but is not reachable: {problem}")
        pytest.skip(f"no PostgreSQL server at {PG_ADMIN_URL}: {problem}")
    return DatabaseUrl.parse(PG_ADMIN_URL)


def _admin_sql(admin: DatabaseUrl, sql: str) -> None:
    from runbooks.database.connections import run_admin_sql

    run_admin_sql(admin, sql)


@pytest.fixture
def pg_database(pg_admin):
    """``pg_database()``: the URL of a new, not yet existing database name; dropped afterwards."""
    names = []

    def new(create: bool = False) -> DatabaseUrl:
        name = f"runbooks_test_{uuid.uuid4().hex[:10]}"
        names.append(name)
        if create:
            _admin_sql(pg_admin, f'CREATE DATABASE "{name}"')
        return pg_admin.with_database(name)

    yield new
    for name in names:  # with what a restore kept of it (NAME_before_restore_...)
        for found in {name, *_databases_named(pg_admin, name)}:
            _admin_sql(pg_admin, f'DROP DATABASE IF EXISTS "{found}" WITH (FORCE)')


# -- running the CLI as a user would ---------------------------------------------


def run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop(DB_URL_ENV, None) if env is None or DB_URL_ENV not in env else None
    return subprocess.run(
        [sys.executable, "-m", "runbooks", *args],
        cwd=PROJECT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def sqlite_writer():
    """``sqlite_writer(path)``: a second process holding a write (RESERVED) lock until the test ends."""
    started = []

    def hold(path):
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys, time\n"
                "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "conn.execute('BEGIN IMMEDIATE')\n"
                "print('locked', flush=True)\n"
                "time.sleep(600)\n",
                str(path),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "locked"
        started.append(process)
        return process

    yield hold
    for process in started:
        process.kill()
        process.wait()


# -- databases as older Galaxy releases left them (tests/fixtures/releases) ---------

RELEASE_FIXTURES = PROJECT / "tests" / "fixtures" / "releases"
OLD_RELEASES = {"25.0.4": "25.0", "25.1.3": "25.1", "26.0.2": "26.0"}


def sqlite_from_release(release: str, folder: Path) -> DatabaseUrl:
    import gzip

    path = folder / f"galaxy-{release}.sqlite"
    with gzip.open(RELEASE_FIXTURES / f"galaxy-data-{release}.sqlite.gz") as source:
        path.write_bytes(source.read())
    return DatabaseUrl.parse(f"sqlite:///{path}")


def postgresql_from_release(release: str, db: DatabaseUrl) -> DatabaseUrl:
    """Load the release's pg_dump into the (new) database ``db`` with psql."""
    import gzip

    _admin_sql(db.with_database("postgres"), f'CREATE DATABASE "{db.database_name}"')
    sql = gzip.open(RELEASE_FIXTURES / f"galaxy-data-{release}.postgresql.sql.gz").read()
    url = db.url
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username]
        + ["-d", db.database_name],
        input=sql,
        check=True,
        capture_output=True,
    )
    return db


@pytest.fixture(scope="session")
def pg_templates(pg_admin, graph):
    """PostgreSQL databases made once per test run by Galaxy's code; tests copy them (TEMPLATE).

    The first worker makes each under a file lock and leaves a marker file; the controller drops them
    all when the run ends (pytest_sessionfinish)."""
    from runbooks.tasks.samples import make_sample

    folder = run_folder() / "pg-templates"
    folder.mkdir(exist_ok=True)

    def name_for(target: str) -> str:
        name = pg_prefix() + target.replace("@", "_").replace(".", "_")

        def make(marker: Path) -> None:
            _admin_sql(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # a failed attempt's leftover
            make_sample(pg_admin.with_database(name), None if target == "head" else target, graph)
            marker.write_text(name)

        made_once(folder / name, make)
        return name

    return name_for


@pytest.fixture
def pg_db(pg_templates, pg_database, pg_admin):
    """``pg_db("26.0")``: a private PostgreSQL copy of a database Galaxy made and moved there."""

    def copy(target: str = "head") -> DatabaseUrl:
        db = pg_database()
        _admin_sql(pg_admin, f'CREATE DATABASE "{db.database_name}" TEMPLATE "{pg_templates(target)}"')
        return db

    return copy


# -- Chromium for the browser tests (one Playwright per test process) ---------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("/usr/bin/chromium is required under CI=true (apt-get install -y chromium)")
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
