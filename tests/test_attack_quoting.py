"""Attacks on the commands the tool prints (restore with, Next, fix, way out, Lint it).

Each printed ``python -m runbooks …`` line is taken from the real output and pasted into
``bash -c`` as a user would (``RUNBOOK_HOME`` set, ``RUNBOOK_DB_URL`` exported only when the
line names it, from another folder): it must act on the same database, and a file named
``x$(touch${IFS}HACKED).sqlite`` must never run anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbooks.paths import CLI, PROJECT_ROOT
from runbooks.settings import DB_URL_ENV, GALAXY_ROOT_ENV, HOME_ENV
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.printed_commands import DatabaseArgs, command_line
from runbooks.tasks.selection import Selection

from attacks import PASSWORD, assert_no_crash, attack, fingerprint
from conftest import postgresql_from_release, run_cli, sqlite_from_release

HACK = "x$(touch${IFS}HACKED)"
ENV_WORD = "'$RUNBOOK_DB_URL'"


def printed_commands(text: str) -> list[str]:
    """Every `python -m runbooks …` between backticks, read with the shell's quoting rules."""
    found, start = [], 0
    while (at := text.find("`" + CLI, start)) != -1:
        end, quote = at + 1, None
        while end < len(text) and (quote or text[end] != "`"):
            char = text[end]
            if char == "\\" and quote != "'":  # in "…", $'…' and bare words a backslash escapes
                end += 1
            elif quote and char == quote[-1]:
                quote = None
            elif not quote and text.startswith("$'", end):
                quote, end = "$'", end + 1
            elif not quote and char in "'\"":
                quote = char
            end += 1
        found.append(text[at + 1 : end])
        start = end + 1
    return found


def paste(line: str, home: Path, folder: Path, secret_url: str | None = None) -> subprocess.CompletedProcess:
    """``bash -c LINE`` from another folder; the variable is exported only when the line reads it."""
    env = {key: value for key, value in os.environ.items() if key not in (DB_URL_ENV, GALAXY_ROOT_ENV)}
    env |= {HOME_ENV: str(home), "PYTHONPATH": str(PROJECT_ROOT)}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    if ENV_WORD in line and secret_url:
        env[DB_URL_ENV] = secret_url
    folder.mkdir(exist_ok=True)
    return subprocess.run(["bash", "-c", line], cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def cli(*args: str, home: Path, secret_url: str | None = None) -> subprocess.CompletedProcess:
    env = {HOME_ENV: str(home)} | ({DB_URL_ENV: secret_url} if secret_url else {})
    result = run_cli(*args, env=env)
    assert_no_crash(result)
    return result


def database_block(output: str) -> str:
    """The lines naming the database a command worked on (a path may hold a newline).

    Not the "Chosen by:" line: a pasted `--db '$RUNBOOK_DB_URL'` reads the same URL from the environment."""
    return output.split("Galaxy code:")[0].split("\nChosen by:")[0]


def assert_nothing_ran(*folders: Path) -> None:
    for folder in (*folders, PROJECT_ROOT):
        assert not list(Path(folder).rglob("HACKED")), folder


def restore_line(output: str) -> str:
    lines = [c for c in printed_commands(output) if c.startswith(f"{CLI} restore ")]
    assert len(lines) == 1, output
    return lines[0]


def assert_same_database(line: str, original: subprocess.CompletedProcess, home, folder, secret_url=None) -> None:
    pasted = paste(line, home, folder, secret_url)
    assert_no_crash(pasted)
    assert database_block(pasted.stdout) == database_block(original.stdout), (line, pasted.stdout, pasted.stderr)


def upgrade_and_paste_restore(db_args: list[str], db, home: Path, folder: Path, secret_url=None, target=None):
    """upgrade (or downgrade to target) --yes, then paste its restore line: the database is back."""
    before = read_rows(db)
    task = ["downgrade", target] if target else ["upgrade"]
    changed = cli(*task, "--yes", *db_args, home=home, secret_url=secret_url)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert read_rows(db) != before
    line = restore_line(changed.stdout)
    restored = paste(line, home, folder, secret_url)
    assert restored.returncode == 0, (line, restored.stdout, restored.stderr)
    assert_no_crash(restored)
    assert sorted(read_rows(db)) == sorted(before)
    return changed, line


# -- SQLite files with hostile names ----------------------------------------------

NAME_CASES = [
    attack("quoting", "SQLite file named x$(touch${IFS}HACKED).sqlite", "every line quoted; nothing runs").param(
        f"{HACK}.sqlite"
    ),
    attack("quoting", "SQLite file in a folder with spaces", "lines paste whole; same database").param(
        "my galaxy/universe db.sqlite"
    ),
    attack("quoting", "SQLite file named with quotes and backticks", "quoted; nothing runs").param(
        'it\'s "`touch HACKED`".sqlite'
    ),
    attack("quoting", "SQLite file named with a leading dash", "not read as an option").param("-rf --yes.sqlite"),
    attack("quoting", "SQLite file named with a newline", "the quoted newline pastes as one command").param(
        "two\nlines.sqlite"
    ),
    attack("quoting", "SQLite file named with ; | & > and $HOME", "quoted; nothing runs").param(
        "a;b|c&d>e $HOME.sqlite"
    ),
]


@pytest.mark.parametrize("name", NAME_CASES)
def test_sqlite_hostile_name(name, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    path = tmp_path / "dbs" / name
    path.parent.mkdir(parents=True)
    db = sqlite_from_release("26.0.2", path.parent)
    db.sqlite_path.rename(path)
    db = type(db).parse(f"sqlite:///{path}")
    args = ["--db", f"sqlite:///{path}"]

    status = cli("status", *args, home=home)
    troubleshoot = cli("troubleshoot", "--no-rehearse", *args, home=home)
    lines = printed_commands(status.stdout) + printed_commands(troubleshoot.stdout)
    assert lines and all(" --db " in line and "\n" not in line for line in lines), lines
    for line in {line.replace(" upgrade", " status").replace(" --rehearse", "") for line in lines}:
        assert_same_database(line, status, home, folder)

    before = fingerprint(db)
    rehearsed = cli("upgrade", "--rehearse", *args, home=home)
    assert rehearsed.returncode == 0 and fingerprint(db) == before

    upgrade_and_paste_restore(args, db, home, folder)
    assert_nothing_ran(tmp_path)


@attack("quoting", "downgrade of a file named x$(touch${IFS}HACKED): its restore line", "restores that file")
def test_downgrade_restore_line(tmp_path):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    (tmp_path / HACK).mkdir()
    db = sqlite_from_release("26.0.2", tmp_path / HACK)
    changed, line = upgrade_and_paste_restore(["--db", db.secret()], db, home, folder, target="gxy@-1")
    assert "NOT DONE" not in changed.stdout and " --db " in line
    assert_nothing_ran(tmp_path)


# -- PostgreSQL: with and without a password ---------------------------------------


@pytest.fixture
def pg_copy(pg_database):
    def make(password: bool):
        db = postgresql_from_release("26.0.2", pg_database())
        return db.__class__(db.url.set(password=PASSWORD)) if password else db

    return make


@attack("quoting", "PostgreSQL URL without a password", "lines repeat --db 'URL'; paste restores it")
def test_postgresql_without_password(pg_copy, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    db = pg_copy(False)
    status = cli("status", "--db", db.secret(), home=home)
    for line in printed_commands(status.stdout):
        assert f"--db '{db.secret()}'" in line or f"--db {db.secret()}" in line
        assert_same_database(line.replace(" --rehearse", "").replace(" upgrade", " status"), status, home, folder)
    upgrade_and_paste_restore(["--db", db.secret()], db, home, folder)


@attack("quoting", "PostgreSQL URL with a password given with --db", "lines say --db '$RUNBOOK_DB_URL' and how")
def test_postgresql_password_from_argument(pg_copy, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    db = pg_copy(True)
    status = cli("status", "--db", db.secret(), home=home)
    assert "export RUNBOOK_DB_URL" in status.stdout
    lines = printed_commands(status.stdout)
    assert lines and all(line.endswith(f"--db {ENV_WORD}") for line in lines), lines
    assert_same_database(f"{CLI} status --db {ENV_WORD}", status, home, folder, db.secret())
    changed, line = upgrade_and_paste_restore(["--db", db.secret()], db, home, folder, db.secret())
    assert ENV_WORD in line and PASSWORD not in changed.stdout + changed.stderr


@attack("quoting", "PostgreSQL URL with a password from $RUNBOOK_DB_URL", "lines name the variable, no export note")
def test_postgresql_password_from_environment(pg_copy, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    db = pg_copy(True)
    report = cli("troubleshoot", "--no-rehearse", home=home, secret_url=db.secret())
    assert "export RUNBOOK_DB_URL" not in report.stdout
    lines = printed_commands(report.stdout)
    assert lines and all(ENV_WORD in line for line in lines)
    upgrade_and_paste_restore([], db, home, folder, db.secret())


@attack("quoting", "pasted --db '$RUNBOOK_DB_URL' with the variable unset", "refused, exit 2, says export it")
def test_environment_reference_without_the_variable(tmp_path):
    result = paste(f"{CLI} status --db {ENV_WORD}", tmp_path / "home", tmp_path / "elsewhere")
    assert result.returncode == 2 and "export RUNBOOK_DB_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- where the database came from: a checkout, the sample ----------------------------


@attack("quoting", "database from a Galaxy checkout in a folder named with $(...)", "lines repeat --galaxy-root")
def test_checkout_selection(tmp_path, env):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    root = tmp_path / f"{HACK} galaxy"
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    (root / "config").mkdir()
    db = sqlite_from_release("26.0.2", tmp_path)
    (root / "config" / "galaxy.yml").write_text(f"galaxy:\n  database_connection: '{db.secret()}'\n")
    status = cli("status", "--galaxy-root", str(root), home=home)
    lines = printed_commands(status.stdout)
    assert lines and all("--galaxy-root" in line and "--db" not in line for line in lines), lines
    for line in lines:
        assert_same_database(line.replace(" --rehearse", "").replace(" upgrade", " status"), status, home, folder)
    upgrade_and_paste_restore(["--galaxy-root", str(root)], db, home, folder)
    assert_nothing_ran(tmp_path)


@attack("quoting", "the embedded sample database", "lines add no --db, so they act on the sample again")
def test_sample_selection_repeats_nothing(env):
    selection = Selection(None, env, "sample")
    assert selection.database_args.words() == []
    assert command_line("restore", "/b/s.sqlite", "--yes", database=selection.database_args) == (
        f"{CLI} restore /b/s.sqlite --yes"
    )


@attack("quoting", "arguments with quotes, backticks, newlines, $(...), leading dashes", "bash reads them back")
def test_every_argument_survives_bash(tmp_path):
    hostile = [HACK, "a b", "it's", 'say "hi"', "`touch HACKED`", "two\nlines", "-rf", "", "$HOME", "*", "~"]
    line = command_line("lint", *hostile, database=DatabaseArgs(galaxy_root=tmp_path / "g a"))
    words = subprocess.run(
        ["bash", "-c", line.replace(CLI, "printf '%s\\0'", 1)], cwd=tmp_path, capture_output=True, check=True
    ).stdout.decode()
    assert words.split("\0")[:-1] == ["lint", *hostile, "--galaxy-root", str((tmp_path / "g a").resolve())]
    assert_nothing_ran(tmp_path)


# -- JSON and other printed commands ------------------------------------------------


@attack("quoting", "--json reports of upgrade, status and troubleshoot", "carry the same quoted, complete commands")
def test_json_commands(tmp_path):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    (tmp_path / HACK).mkdir()
    db = sqlite_from_release("26.0.2", tmp_path / HACK)
    args = ["--db", db.secret()]
    status = json.loads(cli("status", "--json", *args, home=home).stdout)
    report = json.loads(cli("troubleshoot", "--json", "--no-rehearse", *args, home=home).stdout)
    text = status["next"] + " ".join(f["fix"] for f in report["findings"])
    assert printed_commands(text) and all("'sqlite:///" in line for line in printed_commands(text))
    changed = json.loads(cli("upgrade", "--yes", "--json", *args, home=home).stdout)
    assert changed["succeeded"] and changed["before"]["next"] == status["next"]
    assert paste(changed["backup"]["restore"], home, folder).returncode == 0
    assert sorted(read_rows(db)) == sorted(status["alembic_version_rows"])
    assert_nothing_ran(tmp_path)


@attack("quoting", "create in a workspace named with $(...) and spaces: its Lint it line", "lints that file")
def test_create_lint_line(tmp_path):
    home, folder = tmp_path / "home", tmp_path / "elsewhere"
    workspace = tmp_path / f"{HACK} work"
    created = cli("create", "-m", "Add a column", "--workspace", str(workspace), home=home)
    assert created.returncode == 0, created.stderr
    [line] = [c for c in printed_commands(created.stdout) if c.startswith(f"{CLI} lint ")]
    linted = paste(line, home, folder)
    assert_no_crash(linted)
    assert linted.returncode in (0, 1) and "no revision" not in linted.stderr, (line, linted.stdout, linted.stderr)
    assert_nothing_ran(tmp_path)
