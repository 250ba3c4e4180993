"""Attacks with signals: the CLI killed (SIGKILL) at random moments of an upgrade, SIGTERM, Ctrl-C.

Whatever ends the CLI, nothing it started may go on: within 5 s no process of the run remains
(the Galaxy worker server, its forked child running the migration, pg_dump, a notebook
kernel), two reads of the database 30 s apart agree, and restoring the printed backup gives
the pre-upgrade state, which stays. Every process a run starts inherits its environment, so
a tag in it (``RUNBOOK_TEST_TAG``) finds them all, even once they have a new parent.

The kills of both dialects share one 30 s wait (a module fixture runs them all, then waits once).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runbooks.cli.interrupts import roll_back_hot_journal
from runbooks.database.urls import DatabaseUrl
from runbooks.settings import DB_URL_ENV, HOME_ENV, TEST_TAG_ENV
from runbooks.tasks.migrate import read_rows

from attacks import PASSWORD, assert_no_crash, attack
from conftest import PROJECT, _admin_sql, _databases_named, run_cli
from shared_run import made_once, run_folder
from test_faults import migration_session_active, wait_for

TAG_ENV = TEST_TAG_ENV
DEATH_S = 5.0  # the bound: within 5 s no process of the run remains
APART_S = 30.0  # the two status calls 30 s apart


def run_processes(tag: str) -> list[str]:
    """Every live process started by the run tagged ``tag`` (zombies have no environment)."""
    found = []
    marker = f"{TAG_ENV}={tag}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in environ:
            found.append(f"{proc.name}: {cmdline}")
    return found


class Cli:
    """The CLI in a process of its own, its output collected line by line as it comes."""

    def __init__(self, args: list[str], home: Path, tag: str) -> None:
        env = {**os.environ, TAG_ENV: tag, HOME_ENV: str(home), "PYTHONUNBUFFERED": "1"}
        env.pop(DB_URL_ENV, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runbooks", *args],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # the test's signals reach only what it aims at
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers = [
            threading.Thread(target=self._collect, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._collect, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _collect(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)

    def printed(self, prefix: str) -> bool:
        return any(line.startswith(prefix) for line in self.stdout)

    def backup(self) -> str | None:
        for line in self.stdout:
            found = re.match(r"Backup: (.+?) \(\d+\.\ds\)", line)
            if found:
                return found.group(1)
        return None

    def finish(self) -> subprocess.CompletedProcess:
        code = self.process.wait(timeout=120)
        for reader in self.readers:
            reader.join(timeout=10)
        return subprocess.CompletedProcess(self.process.args, code, "".join(self.stdout), "".join(self.stderr))


def status_rows(db: DatabaseUrl, home: Path) -> tuple[str, set[str]]:
    """``status --json``: the state and the rows, after SQLite rolled back what a kill left half-written
    (reporting the journal as a state of its own is the doctor's job)."""
    roll_back_hot_journal(db)
    result = run_cli("status", "--json", "--history", "0", "--db", db.secret(), env={HOME_ENV: str(home)})
    assert_no_crash(result)
    report = json.loads(result.stdout)
    return report["state"], set(report["alembic_version_rows"])


def with_many_jobs(db: DatabaseUrl, rows: int = 150_000) -> DatabaseUrl:
    """``rows`` jobs in an SQLite database, so the revisions that rebuild ``job`` take about a second.

    Empty, 25.0 -> head runs in about 0.5 s from the first revision to the last, and a signal
    sent as the first revision lands can arrive after the last one (CI saw it): with the jobs
    the migration is still going when the signal comes.
    """
    import sqlite3

    with sqlite3.connect(db.sqlite_path) as conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO job (tool_id, state) SELECT 'cat1', 'ok' FROM n",
            (rows,),
        )
    conn.close()
    return db


# -- SIGKILL of the CLI at a moment of the upgrade ------------------------------------


@dataclass
class Kill:
    """What one kill left: the processes still there after 5 s, and the database over time."""

    start: set[str]
    leftovers: list[str]
    state_after_kill: str
    rows_after_kill: set[str]
    backup: str | None
    restored: subprocess.CompletedProcess | None = None
    rows_restored: set[str] = field(default_factory=set)
    rows_later: set[str] = field(default_factory=set)


def _moment_reached(moment: str, cli: Cli, db: DatabaseUrl, home: Path, tag: str, start: set[str]) -> bool:
    if moment == "pre-flight":
        return cli.printed("Database:")
    if moment == "backup":  # PostgreSQL: pg_dump running; SQLite: the backup file appeared
        if db.is_sqlite:
            return any((home / "backups").glob("*"))
        return any("pg_dump" in line for line in run_processes(tag))
    return migrating(db, home, start, cli)


def migrating(db: DatabaseUrl, home: Path, start: set[str], cli: Cli) -> bool:
    """The migration has begun. The database is looked at only once the backup exists: a test
    reading it during the pre-flight would be named as a blocking session, rightly."""
    if db.is_sqlite:
        return any((home / "backups").glob("*")) and set(read_rows(db)) != start
    return cli.backup() is not None and migration_session_active(db)  # not pg_dump's session


def kill_at(moment: str, args: list[str], db: DatabaseUrl, home: Path, seed: int) -> Kill:
    tag = uuid.uuid4().hex
    home = home / f"{moment}-{seed}"
    start = set(read_rows(db))
    cli = Cli(args, home, tag)
    reached = wait_for(
        lambda: _moment_reached(moment, cli, db, home, tag, start) or cli.process.poll() is not None, every=0.02
    )
    assert reached and cli.process.poll() is None, f"the run ended before {moment}: {cli.finish()}"
    if moment != "backup" and db.is_sqlite:  # a random moment early in the phase: from the first revision
        # to the last, 25.0 -> head on SQLite takes about 0.5 s on an idle machine
        time.sleep(random.Random(seed).uniform(0, 0.1))
    os.kill(cli.process.pid, signal.SIGKILL)  # the CLI alone, as `kill -9 PID` does
    cli.finish()
    wait_for(lambda: not run_processes(tag), timeout=DEATH_S, every=0.05)
    state, rows = status_rows(db, home)
    kill = Kill(start, run_processes(tag), state, rows, cli.backup())
    if kill.backup:
        kill.restored = run_cli("restore", kill.backup, "--db", db.secret(), "--yes", env={HOME_ENV: str(home)})
        kill.rows_restored = set(read_rows(db))
    return kill


ATTEMPTS = 5  # a kill that lands after the migration has finished proves nothing: try again on a fresh copy


def kill_mid_way(moment: str, args: list[str], fresh, home: Path, seed: int) -> Kill:
    """``kill_at`` on a fresh database until the kill lands before the upgrade is done (a busy
    machine can finish a short PostgreSQL upgrade between "it started" and the signal)."""
    for attempt in range(ATTEMPTS):
        db = fresh(attempt)
        kill = kill_at(moment, args(db), db, home, seed * ATTEMPTS + attempt)
        if kill.state_after_kill != "up-to-date":
            break
    return kill


def settle(kills: dict, databases: dict, home: Path) -> dict:
    """One wait for all: 30 s after the last kill, read every database again."""
    time.sleep(APART_S)
    for key, kill in kills.items():
        kill.rows_later = status_rows(databases[key], home)[1]
    return kills


def upgrade_args(db: DatabaseUrl) -> list[str]:
    return ["upgrade", "--db", db.secret(), "--yes"]


def notebook_args(db: DatabaseUrl) -> list[str]:
    return ["run", "upgrade", "--db", db.secret(), "-p", "confirm", "True"]


SQLITE_KILLS = {
    "pre-flight": upgrade_args,
    "backup": upgrade_args,
    "migration": upgrade_args,
    "notebook": notebook_args,
}


def _sqlite_kills(sqlite_store, tmp_path_factory, home: Path, databases: dict) -> dict[tuple[str, str], Kill]:
    kills = {}
    for seed, (moment, args) in enumerate(SQLITE_KILLS.items()):

        def fresh(attempt: int, moment=moment) -> DatabaseUrl:
            path = tmp_path_factory.mktemp("kills") / f"galaxy {moment} {attempt}.sqlite"  # a space, on purpose
            shutil.copyfile(sqlite_store("25.0"), path)
            databases[("sqlite", moment)] = with_many_jobs(DatabaseUrl.parse(f"sqlite:///{path}"))
            return databases[("sqlite", moment)]

        phase = "migration" if moment == "notebook" else moment
        kills[("sqlite", moment)] = kill_mid_way(phase, args, fresh, home, seed)
    return kills


def _postgresql_kills(pg_admin, pg_templates, home: Path, databases: dict, made: list) -> dict[tuple[str, str], Kill]:
    kills = {}
    for seed, moment in enumerate(("pre-flight", "backup", "migration")):

        def fresh(attempt: int, moment=moment) -> DatabaseUrl:
            db = pg_admin.with_database(f"runbooks_test_{uuid.uuid4().hex[:10]}")
            db = DatabaseUrl.parse(db.secret().replace("postgres@", f"postgres:{PASSWORD}@"))
            _admin_sql(pg_admin, f'CREATE DATABASE "{db.database_name}" TEMPLATE "{pg_templates("25.0")}"')
            made.append(db)
            databases[("postgresql", moment)] = db
            return db

        kills[("postgresql", moment)] = kill_mid_way(moment, upgrade_args, fresh, home, seed)
    return kills


@pytest.fixture(scope="module")
def kills(sqlite_store, tmp_path_factory, request):
    """Every kill of both dialects, then one 30 s wait for all (PostgreSQL's only where a server answers).

    Made once per test run: the worker that gets there first kills and waits, the other reads its record."""

    def make(record: Path) -> None:
        databases, made, pg_admin = {}, [], None
        try:
            found = _sqlite_kills(sqlite_store, tmp_path_factory, tmp_path_factory.mktemp("kills-home"), databases)
            try:
                pg_admin, pg_templates = request.getfixturevalue("pg_admin"), request.getfixturevalue("pg_templates")
            except pytest.skip.Exception:  # no server and not under CI: the PostgreSQL tests skip on their own
                pg_admin = None
            if pg_admin is not None:
                pg_home = Path(os.environ[HOME_ENV]) / f"pg-kills-{uuid.uuid4().hex[:6]}"
                found |= _postgresql_kills(pg_admin, pg_templates, pg_home, databases, made)
            record.write_bytes(pickle.dumps(settle(found, databases, tmp_path_factory.mktemp("settle-home"))))
        finally:
            for db in made:  # with what a restore kept of it (NAME_before_restore_...)
                for name in {db.database_name, *_databases_named(pg_admin, db.database_name)}:
                    _admin_sql(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return pickle.loads(made_once(run_folder() / "signal-kills.pickle", make).read_bytes())


@pytest.fixture(scope="module")
def sqlite_kills(kills):
    return {moment: kill for (dialect, moment), kill in kills.items() if dialect == "sqlite"}


@pytest.fixture(scope="module")
def postgresql_kills(pg_admin, kills):
    return {moment: kill for (dialect, moment), kill in kills.items() if dialect == "postgresql"}


def assert_nothing_goes_on(kill: Kill) -> None:
    assert kill.leftovers == [], f"still running {DEATH_S} s after the kill: {kill.leftovers}"
    assert kill.state_after_kill != "up-to-date", "a killed upgrade must not look finished"
    if kill.backup is None:
        assert kill.rows_later == kill.rows_after_kill, "the database moved after the kill"
        return
    assert kill.restored.returncode == 0, kill.restored.stderr
    assert_no_crash(kill.restored)
    assert kill.rows_restored == kill.start
    assert kill.rows_later == kill.start, "the restored database moved: a migration went on"


@pytest.mark.parametrize(
    "moment",
    [
        attack(
            "signals",
            "kill -9 the upgrade CLI during its pre-flight (SQLite)",
            "no process left within 5 s; database unchanged 30 s later",
        ).param("pre-flight"),
        attack(
            "signals",
            "kill -9 the upgrade CLI as it writes the backup (SQLite)",
            "no process left within 5 s; restore of any printed backup stays put",
        ).param("backup"),
        attack(
            "signals",
            "kill -9 the upgrade CLI during the migration (SQLite)",
            "worker and child killed within 5 s; restored backup stays put 30 s",
        ).param("migration"),
        attack(
            "signals",
            "kill -9 `run upgrade -p confirm True` during the migration",
            "kernel, worker and child gone within 5 s; restored backup stays put",
        ).param("notebook"),
    ],
)
def test_sigkill_of_the_cli_on_sqlite(sqlite_kills, moment):
    assert_nothing_goes_on(sqlite_kills[moment])


@pytest.mark.parametrize(
    "moment",
    [
        attack(
            "signals",
            "kill -9 the upgrade CLI during its pre-flight (PostgreSQL)",
            "no process left within 5 s; database unchanged 30 s later",
        ).param("pre-flight"),
        attack(
            "signals",
            "kill -9 the upgrade CLI while pg_dump runs (PostgreSQL)",
            "pg_dump dies with it within 5 s; database unchanged",
        ).param("backup"),
        attack(
            "signals",
            "kill -9 the upgrade CLI during the migration (PostgreSQL)",
            "worker and child killed within 5 s; restored dump stays put 30 s",
        ).param("migration"),
    ],
)
def test_sigkill_of_the_cli_on_postgresql(postgresql_kills, moment):
    kill = postgresql_kills[moment]
    assert_nothing_goes_on(kill)
    assert kill.rows_after_kill == kill.start  # one transaction: the kill rolled it all back


# -- SIGTERM and Ctrl-C: the CLI stops, waits, reads back, and says so ------------------


INTERRUPTED = re.compile(r"^interrupted by (SIG\w+); alembic_version now ([\w, ]+) \((unchanged|was [\w, ]+)\)")


def interrupt_during_migration(db: DatabaseUrl, home: Path, signum: int, group: bool) -> tuple:
    tag = uuid.uuid4().hex
    start = set(read_rows(db))
    cli = Cli(upgrade_args(db), home, tag)
    assert wait_for(lambda: migrating(db, home, start, cli) or cli.process.poll() is not None, every=0.05)
    assert cli.process.poll() is None, f"the upgrade ended before the signal: {cli.finish()}"
    if group:  # Ctrl-C in a terminal reaches the whole foreground process group
        os.killpg(cli.process.pid, signum)
    else:
        os.kill(cli.process.pid, signum)
    result = cli.finish()
    leftovers = run_processes(tag)  # the CLI waited for its worker before it exited
    return result, leftovers, start


def assert_line_matches_read_back(result, leftovers, db, home, signal_name, code) -> set[str]:
    assert_no_crash(result)
    assert result.returncode == code, result.stderr[-2000:]
    assert leftovers == []
    line = result.stderr.strip().splitlines()[-1]
    found = INTERRUPTED.match(line)
    assert found, line
    assert found.group(1) == signal_name
    state, rows = status_rows(db, home)
    assert set(found.group(2).split(", ")) == rows, (line, rows)
    assert state != "up-to-date"
    backup = re.search(r"; backup (\S+); restore with: (.+)$", line)
    assert backup and Path(backup.group(1)).is_file(), line
    return rows


@attack(
    "signals",
    "kill -TERM the upgrade CLI during the migration (SQLite)",
    "exit 143; its line names the alembic_version read back",
)
def test_sigterm_stops_the_migration_and_says_where_it_stands(sqlite_db, tmp_path):
    db = sqlite_db("25.0")
    result, leftovers, _ = interrupt_during_migration(db, tmp_path, signal.SIGTERM, group=False)
    rows = assert_line_matches_read_back(result, leftovers, db, tmp_path, "SIGTERM", 143)
    assert set(read_rows(db)) == rows  # and it stays there: nothing runs any more


@attack(
    "signals",
    "Ctrl-C (SIGINT to the process group) during the migration (SQLite)",
    "exit 130; worker ignores it, CLI stops it; line matches read-back",
)
def test_ctrl_c_stops_the_migration_and_says_where_it_stands(sqlite_db, tmp_path):
    db = sqlite_db("25.0")
    result, leftovers, _ = interrupt_during_migration(db, tmp_path, signal.SIGINT, group=True)
    assert_line_matches_read_back(result, leftovers, db, tmp_path, "SIGINT", 130)


@attack(
    "signals",
    "kill -TERM the upgrade CLI during the migration (PostgreSQL)",
    "exit 143; rolled back: 'alembic_version now X (unchanged)'",
)
def test_sigterm_on_postgresql_rolls_back_and_says_so(pg_db, tmp_path):
    db = pg_db("25.0")
    result, leftovers, start = interrupt_during_migration(db, tmp_path, signal.SIGTERM, group=False)
    rows = assert_line_matches_read_back(result, leftovers, db, tmp_path, "SIGTERM", 143)
    assert rows == start and "(unchanged)" in result.stderr
    assert not migration_session_active(db)


# -- the worker server itself ----------------------------------------------------------


@attack(
    "signals",
    "the Galaxy worker server started for a parent that is already gone",
    "it leaves at once (exit 1), before importing Galaxy",
)
def test_worker_server_leaves_when_its_parent_is_not_there():
    from runbooks.galaxy.protocol import server_command

    argv, env, _ = server_command(None)
    argv[-1] = "1"  # the parent it would die with is not the process that started it
    result = subprocess.run(argv, env=env, input="", capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""


NOTEBOOK_KERNEL = """
import signal, sys, time
from runbooks.database.urls import DatabaseUrl
from runbooks.cli.interrupts import roll_back_hot_journal
from runbooks.galaxy.commands import run_dbscript
db = DatabaseUrl.parse(sys.argv[1])
# ipykernel installs this handler while a cell runs, whatever the kernel inherited (a job started
# in the background by a non-interactive shell inherits SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    run_dbscript(db, "upgrade")
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
time.sleep(60)  # the kernel lives on after the interrupt
"""


@attack(
    "signals",
    "interrupt a notebook kernel during a Galaxy migration (the kernel lives on)",
    "worker and child stopped; the database stays where it was left",
)
def test_interrupt_in_a_living_kernel_stops_the_worker(sqlite_db, tmp_path):
    db = with_many_jobs(sqlite_db("25.0"))
    tag = uuid.uuid4().hex
    start = set(read_rows(db))
    kernel = subprocess.Popen(
        [sys.executable, "-c", NOTEBOOK_KERNEL, db.secret()],
        cwd=PROJECT,
        env={**os.environ, TAG_ENV: tag},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: set(read_rows(db)) != start or kernel.poll() is not None)
        kernel.send_signal(signal.SIGINT)  # what Jupyter's "interrupt kernel" sends
        assert kernel.stdout.readline().strip() == "interrupted"
        workers = lambda: [line for line in run_processes(tag) if not line.startswith(f"{kernel.pid}:")]  # noqa: E731
        wait_for(lambda: not workers(), timeout=DEATH_S, every=0.05)
        assert workers() == []
        roll_back_hot_journal(db)
        rows = set(read_rows(db))
        assert rows != start and kernel.poll() is None
        time.sleep(5)
        assert set(read_rows(db)) == rows
    finally:
        kernel.kill()
        kernel.wait()
