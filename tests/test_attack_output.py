"""Attacks on where output goes: a reader that went away (`| head`), and `run -o` into folders.

A closed pipe ends the CLI quietly (exit 0 or 141, no traceback, no ``internal error``);
`run -o` saves inside a folder it is given, and a folder that is missing or cannot be
written is refused in one line before anything runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from runbooks.database.urls import DatabaseUrl
from runbooks.settings import DB_URL_ENV, HOME_ENV

from attacks import assert_no_crash, assert_refused, attack, fingerprint
from conftest import PROJECT, run_cli


def with_closed_stdout(*args: str, home) -> subprocess.CompletedProcess:
    """The CLI writing into a pipe nobody reads any more, as after `| head -1` has exited."""
    env = {**os.environ, HOME_ENV: str(home)}
    env.pop(DB_URL_ENV, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "runbooks", *args],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()  # the reader is gone before the first line
    stderr = process.stderr.read()
    return subprocess.CompletedProcess(process.args, process.wait(timeout=300), "", stderr)


PIPED = [
    attack("other", "`status | head -1` (the reader closes the pipe)", "exit 141, nothing on stderr").param(["status"]),
    attack("other", "`status --json` into a closed pipe", "exit 141, nothing on stderr").param(["status", "--json"]),
    attack("other", "`troubleshoot` into a closed pipe", "exit 141, nothing on stderr").param(["troubleshoot"]),
    attack("other", "the menu (no arguments) into a closed pipe", "exit 0 or 141, nothing on stderr").param([]),
]


@pytest.mark.parametrize("args", PIPED)
def test_a_closed_pipe_ends_quietly(args, sqlite_db, tmp_path):
    db = sqlite_db("25.0")
    before = fingerprint(db)
    result = with_closed_stdout(*args, *(["--db", str(db)] if args else []), home=tmp_path)
    assert_no_crash(result)
    assert result.returncode in (0, 141), result.stderr
    assert "Error" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert fingerprint(db) == before


def test_status_piped_into_head_prints_its_first_line(sqlite_db, tmp_path):
    db = sqlite_db("25.0")
    result = subprocess.run(
        ["bash", "-c", '"$0" -m runbooks status --db "$1" | head -1; exit "${PIPESTATUS[0]}"', sys.executable, str(db)],
        cwd=PROJECT,
        env={**os.environ, HOME_ENV: str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_no_crash(result)
    assert result.returncode in (1, 141), result.stderr  # 1: "behind", when head read it all in time
    assert result.stdout.startswith("Database:") and result.stdout.count("\n") == 1


@attack("run", "run status -o DIR (an existing folder)", "exit 0; saved inside DIR; no kernel TCP warning")
def test_run_into_a_folder_saves_inside_it(sqlite_db, tmp_path):
    db = sqlite_db("head")  # up to date: the status runbook's outcome is 0
    folder = tmp_path / "runs here"
    folder.mkdir()
    result = run_cli("run", "status", "--db", str(db), "-o", str(folder), env={HOME_ENV: str(tmp_path)})
    assert_no_crash(result)
    assert result.returncode == 0, result.stderr[-2000:]
    saved = list(folder.glob("status-*.ipynb"))
    assert len(saved) == 1 and f"saved {saved[0]}" in result.stdout
    assert "IPKernelApp" not in result.stderr and "without encryption" not in result.stderr, result.stderr


@contextmanager
def read_only_folder(path: Path):
    """A folder nobody can write: mode 555, or for root (who writes anyway) a read-only tmpfs."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.mark.parametrize(
    "where, words",
    [
        attack("run", "run -o into a folder that does not exist", "refused, exit 2, nothing executed").param(
            "missing/out.ipynb", "does not exist"
        ),
        attack("run", "run -o into a missing folder given with a slash", "refused, exit 2, nothing executed").param(
            "missing/", "does not exist"
        ),
        attack("run", "run -o into a read-only folder", "refused, exit 2, nothing executed").param(
            "read-only/out.ipynb", "cannot write into"
        ),
        attack("run", "run -o below a regular file", "refused, exit 2, nothing executed").param(
            "a-file/out.ipynb", "is not a folder"
        ),
        attack("run", "run -o a path that is not a notebook (out.txt)", "refused, exit 2, nothing executed").param(
            "out.txt", "ending in .ipynb"
        ),
    ],
)
def test_run_output_folder_refused_before_anything_runs(where, words, sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    before = fingerprint(db)
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (work / "a-file").write_text("")
    with read_only_folder(work / "read-only"):
        result = run_cli("run", "status", "--db", str(db), "-o", f"{work}/{where}", env={HOME_ENV: str(home)})
        assert list((work / "read-only").iterdir()) == []
    assert_refused(result, words, code=2)
    assert list(home.iterdir()) == []  # nothing executed: no run, no sample database
    assert sorted(p.name for p in work.iterdir()) == ["a-file", "read-only"]
    assert fingerprint(db) == before


@pytest.mark.parametrize(
    "how",
    [
        attack("run", "run -o a symlink to the database", "refused, exit 2; the database byte-identical").param("link"),
        attack("run", "run -o the database itself (named galaxy.ipynb)", "refused, exit 2; byte-identical").param(
            "named"
        ),
    ],
)
def test_run_output_that_is_the_database_is_refused(how, sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    if how == "named":
        named = db.sqlite_path.with_name("galaxy.ipynb")
        db.sqlite_path.rename(named)
        db, output = DatabaseUrl.parse(f"sqlite:///{named}"), named
    else:
        output = tmp_path / "out.ipynb"
        output.symlink_to(db.sqlite_path)
    before = fingerprint(db)
    result = run_cli("run", "status", "--db", db.secret(), "-o", str(output), env={HOME_ENV: str(tmp_path / "home")})
    assert_refused(result, "is not a notebook", "choose another path", code=2)
    assert fingerprint(db) == before
