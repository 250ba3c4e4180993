"""Bad input: one clear line on stderr, exit 2, no traceback, nothing created or changed."""

from __future__ import annotations

import pytest

from runbooks.settings import HOME_ENV

from conftest import file_digest, run_cli


def assert_one_clear_line(result, *words):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip() and "Kernel" not in line]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    "url, words",
    [
        ("not a url", ["not a database URL"]),
        ("mysql://root@localhost/galaxy", ["unsupported database", "sqlite or postgresql"]),
        ("postgresql://localhost", ["names no database"]),
        ("sqlite://", ["names no file"]),
    ],
)
def test_malformed_urls(url, words, tmp_path):
    assert_one_clear_line(run_cli("status", "--db", url), *words)


def test_unreachable_server():
    result = run_cli("status", "--db", "postgresql://galaxy:hunter2@127.0.0.1:1/galaxy")
    assert_one_clear_line(result, "cannot reach PostgreSQL at 127.0.0.1:1")
    assert "hunter2" not in result.stderr + result.stdout


def test_text_file_given_as_database(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 50)
    before = file_digest(text)
    assert_one_clear_line(run_cli("status", "--db", f"sqlite:///{text}"), "is not a SQLite database")
    assert file_digest(text) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_directory_given_as_database(tmp_path):
    assert_one_clear_line(run_cli("status", "--db", f"sqlite:///{tmp_path}"), "is a directory")
    assert list(tmp_path.iterdir()) == []


def test_unknown_option_and_task():
    assert_one_clear_line(run_cli("status", "--frobnicate"), "unrecognized arguments")
    assert_one_clear_line(run_cli("frobnicate"), "invalid choice")


def test_bad_sample_target_creates_nothing(tmp_path):
    out = tmp_path / "sample.sqlite"
    assert_one_clear_line(run_cli("sample", "--release", "99.9", str(out)), "is not a target")
    assert not out.exists()


def test_sample_never_overwrites(sqlite_db):
    db = sqlite_db("head")
    before = file_digest(db.sqlite_path)
    assert_one_clear_line(run_cli("sample", str(db.sqlite_path)), "already holds tables")
    assert file_digest(db.sqlite_path) == before


def test_run_refuses_a_url_as_parameter(tmp_path):
    result = run_cli("run", "status", "-p", "db", "postgresql://u:secret@h/db", env={HOME_ENV: str(tmp_path)})
    assert_one_clear_line(result, "through $RUNBOOK_DB_URL")
    assert "secret" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # refused before the sample database was made


def test_unknown_runbook(tmp_path):
    result = run_cli("run", "nosuchtask", env={HOME_ENV: str(tmp_path)})
    assert_one_clear_line(result, "no runbook named")
    assert list(tmp_path.iterdir()) == []
