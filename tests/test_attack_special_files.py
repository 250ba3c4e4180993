"""Attacks with files that are not SQLite databases: FIFOs, sockets, devices, impossible paths.

Opening a FIFO blocks until a writer appears, so each of these is refused from ``stat`` alone,
before anything opens it; a hang shows up here as the run's timeout.
"""

from __future__ import annotations

import os
import socket
import stat

import pytest

from attacks import PASSWORD, assert_refused, attack
from conftest import run_cli

QUICK_S = 60  # generous: a FIFO that was opened would block for ever


def special_file(kind: str, folder) -> str:
    if kind == "fifo":
        path = folder / "galaxy.sqlite"
        os.mkfifo(path)
        return str(path)
    if kind == "socket":
        path = folder / "galaxy.sqlite"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()  # the socket file stays
        return str(path)
    return "/dev/null"


KIND_WORDS = {"fifo": "is a FIFO (named pipe)", "socket": "is a socket", "device": "is a character device"}

CASES = [
    attack("special-files", "a FIFO given as the database to status", "refused unopened, exit 2").param(
        "fifo", ["status"]
    ),
    attack("special-files", "a FIFO given as the database to troubleshoot", "refused unopened, exit 2").param(
        "fifo", ["troubleshoot"]
    ),
    attack("special-files", "a FIFO given as the database to upgrade --yes", "refused unopened, exit 2").param(
        "fifo", ["upgrade", "--yes"]
    ),
    attack("special-files", "a socket given as the database to status", "refused, exit 2").param("socket", ["status"]),
    attack("special-files", "a socket given as the database to troubleshoot", "refused, exit 2").param(
        "socket", ["troubleshoot"]
    ),
    attack("special-files", "a socket given as the database to downgrade", "refused, exit 2").param(
        "socket", ["downgrade", "26.0", "--yes"]
    ),
    attack("special-files", "/dev/null given as the database to status", "refused, exit 2").param("device", ["status"]),
    attack("special-files", "/dev/null given as the database to troubleshoot", "refused, exit 2").param(
        "device", ["troubleshoot"]
    ),
    attack("special-files", "/dev/null given as the database to upgrade --yes", "refused, exit 2").param(
        "device", ["upgrade", "--yes"]
    ),
]


@pytest.mark.parametrize("kind, command", CASES)
def test_special_file_as_database(kind, command, tmp_path):
    path = special_file(kind, tmp_path)
    before = os.stat(path)
    result = run_cli(*command, "--db", f"sqlite:///{path}", timeout=QUICK_S)
    assert_refused(result, KIND_WORDS[kind], "not a SQLite database file")
    after = os.stat(path)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    if kind != "device":
        assert os.listdir(tmp_path) == ["galaxy.sqlite"]  # no journal, no backup beside it


@attack("special-files", "sample OUT where OUT is a FIFO", "refused unopened, exit 2; nothing made")
def test_sample_onto_a_fifo(tmp_path):
    path = special_file("fifo", tmp_path)
    assert_refused(run_cli("sample", path, timeout=QUICK_S), "is a FIFO", "not a SQLite database file")
    assert os.listdir(tmp_path) == ["galaxy.sqlite"]


@attack("special-files", "lint a FIFO and /dev/zero", "refused unopened, exit 2")
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_lint_special_files(kind, tmp_path):
    path = special_file(kind, tmp_path) if kind == "fifo" else "/dev/zero"
    assert_refused(run_cli("lint", path, timeout=QUICK_S), "not a revision file", "was not opened")


LONG = "a" * 300
LONG_CASES = [
    attack("special-files", "status on a file name longer than the system allows", "one clear line, exit 2").param(
        ["status", "--db", f"sqlite:////tmp/{LONG}.sqlite"]
    ),
    attack("special-files", "sample OUT with a name longer than the system allows", "one clear line, exit 2").param(
        ["sample", f"/tmp/{LONG}.sqlite"]
    ),
    attack("special-files", "lint a path longer than the system allows", "one clear line, exit 2").param(
        ["lint", f"/tmp/{LONG}.py"]
    ),
]


@pytest.mark.parametrize("args", LONG_CASES)
def test_over_long_paths(args):
    line = assert_refused(run_cli(*args, timeout=QUICK_S), "too long", "give a shorter one")
    assert len(line) < 400


@attack("special-files", "sample OUT inside a path whose parent is a file", "one clear line, exit 2")
def test_sample_under_a_file(tmp_path):
    blocker = tmp_path / "a.sqlite"
    blocker.write_bytes(b"x")
    assert_refused(run_cli("sample", str(blocker / "sub.sqlite")), "cannot make the folder")
    assert blocker.read_bytes() == b"x"


@attack("special-files", "a PostgreSQL URL with an option libpq does not know", "one clear line, exit 2")
@pytest.mark.parametrize("command", [["status"], ["troubleshoot"]])
def test_unknown_postgresql_option(command):
    url = f"postgresql://galaxy:{PASSWORD}@127.0.0.1:5432/galaxy?bogus=1"
    assert_refused(run_cli(*command, "--db", url), "invalid connection option", "check the options")


@attack("special-files", "a FIFO named through ~ (sqlite:///~/galaxy.sqlite)", "refused unopened, exit 2")
def test_fifo_through_home(tmp_path):
    special_file("fifo", tmp_path)
    result = run_cli("status", "--db", "sqlite:///~/galaxy.sqlite", env={"HOME": str(tmp_path)}, timeout=QUICK_S)
    assert_refused(result, "is a FIFO", str(tmp_path))


@attack("special-files", "sqlite:///~nosuchuser/galaxy.sqlite", "one clear line, exit 2")
def test_home_of_an_unknown_user():
    assert_refused(run_cli("status", "--db", "sqlite:///~nosuchuser_runbooks/x.sqlite"), "no such user")
