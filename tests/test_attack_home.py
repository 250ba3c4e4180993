"""A home the tool cannot write (a read-only mount): one clear line saying what to do, never an internal error."""

from __future__ import annotations

import pytest
from mounts import make_read_only, tmpfs

from runbooks.settings import HOME_ENV

from attacks import assert_refused, attack
from conftest import run_cli


@pytest.mark.parametrize(
    "args",
    [
        attack("special-files", "status --json without --db, the home read-only", "exit 2, one clear line").param(
            ["status", "--json"]
        ),
        attack("special-files", "troubleshoot without --db, the home read-only", "exit 2, one clear line").param(
            ["troubleshoot"]
        ),
    ],
)
def test_read_only_home_without_a_database(args, tmp_path):
    with tmpfs(tmp_path / "home", "1M") as home:
        make_read_only(home)
        result = run_cli(*args, env={HOME_ENV: str(home)})
    assert_refused(result, "pass --db", HOME_ENV, "Read-only file system")
    assert result.stdout == ""


@attack("special-files", "sample OUT into a read-only folder", "exit 2, one line, nothing made")
def test_sample_into_a_read_only_folder(tmp_path):
    with tmpfs(tmp_path / "ro", "1M") as folder:
        make_read_only(folder)
        result = run_cli("sample", str(folder / "practice.sqlite"))
        assert list(folder.iterdir()) == []
    assert_refused(result, "cannot write into", "choose another path")
