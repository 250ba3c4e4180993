"""Attacks on ``run``: only the project's notebooks, only their declared parameters, typed values."""

from __future__ import annotations

import pytest

from runbooks.cli.notebook_run import notebook_path
from runbooks.cli.parameters import declared_parameters, typed_value
from runbooks.settings import HOME_ENV

from attacks import assert_refused, attack, fingerprint
from conftest import run_cli

CASES = [
    attack("run", "run ../../somewhere/evil: a notebook outside notebooks/", "refused, exit 2, nothing executed").param(
        ["run", "../../tests/evil"], "no runbook named"
    ),
    attack("run", "run an absolute path to a notebook", "refused, exit 2, nothing executed").param(
        ["run", "/tmp/evil"], "no runbook named"
    ),
    attack("run", "-p NAME where NAME is code (x=1;import os;...)", "refused: not a parameter, exit 2").param(
        ["run", "status", "-p", "x=1;import os;os.system('touch HACKED');y", "1"], "has no parameter"
    ),
    attack("run", "-p confirm False on upgrade", "refused nothing: False is false (value check below)").param(
        ["run", "upgrade", "-p", "confirm", "perhaps"], "takes true or false"
    ),
    attack("run", "-p history 5x (not a number)", "refused, exit 2").param(
        ["run", "status", "-p", "history", "5x"], "takes a whole number"
    ),
    attack("run", "-p with a database URL as a value", "refused: the URL would be saved in the notebook").param(
        ["run", "status", "-p", "galaxy_root", "postgresql://u:s3cr3t-Pa55@h/db"], "through $RUNBOOK_DB_URL"
    ),
]


@pytest.mark.parametrize("args, words", CASES)
def test_run_refuses(args, words, tmp_path):
    result = run_cli(*args, env={HOME_ENV: str(tmp_path)})
    assert_refused(result, words)
    assert list(tmp_path.iterdir()) == []  # refused before the sample database or any run was made
    assert not (tmp_path.parent / "HACKED").exists()


@attack("run", "-p confirm False / no / 0 reaching the notebook as a truthy string", "the notebook gets False")
@pytest.mark.parametrize("text", ["False", "false", "NO", "0", "no"])
def test_false_words_are_false(text):
    assert typed_value("confirm", text, False) is False


@pytest.mark.parametrize("text", ["True", "yes", "1", "YES"])
def test_true_words_are_true(text):
    assert typed_value("confirm", text, False) is True


def test_history_becomes_an_int():
    assert typed_value("history", "5", 12) == 5


@pytest.mark.parametrize("task", ["upgrade", "downgrade"])
def test_change_runbooks_declare_confirm_false(task):
    """The parameter that decides whether a runbook changes a user's database defaults to no."""
    assert declared_parameters(notebook_path(task))["confirm"] is False


@attack("run", "run upgrade -p confirm False against a user's database", "nothing applied; database byte-identical")
def test_confirm_false_applies_nothing(sqlite_db, tmp_path):
    db = sqlite_db("26.0")
    before = fingerprint(db)
    result = run_cli("run", "upgrade", "--db", str(db), "-p", "confirm", "False", env={HOME_ENV: str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert fingerprint(db) == before
