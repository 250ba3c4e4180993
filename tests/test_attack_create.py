"""Attacks on ``create`` and ``lint``: messages Galaxy's template would break on, broken revision
files in a workspace, a ``--pg`` server that is not there.

``create`` never leaves a file it could not validate: a workspace stays usable afterwards.
"""

from __future__ import annotations

import pytest

from runbooks.errors import UsageError
from runbooks.tasks.create import CreatedRevision, _validate_or_remove

from attacks import PASSWORD, assert_refused, attack
from conftest import run_cli

MESSAGES = [
    attack("create", "create -m 'Fix \\x path' (an escape Python cannot parse)", "refused, exit 2, no file").param(
        "Fix \\x path", "backslash"
    ),
    attack("create", "create -m with \\N{...} in it", "refused, exit 2, no file").param("Fix \\N{x} path", "backslash"),
    attack("create", "create -m with a tab (a control character)", "refused, exit 2, no file").param(
        "Fix\tpath", "control character"
    ),
    attack("create", "create -m ending in a double quote", "refused, exit 2, no file").param(
        'say "hi"', "closing quote"
    ),
]


def revision_files(workspace) -> list[str]:
    return sorted(p.name for p in workspace.rglob("versions_gxy/*.py"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """One workspace (a copy of the installed environment) the attacks below must leave as it was."""
    from runbooks.code.workspace import ensure_workspace

    folder = tmp_path_factory.mktemp("create") / "ws"
    ensure_workspace(str(folder))
    return folder


@pytest.mark.parametrize("message, words", MESSAGES)
def test_unusable_messages(message, words, workspace):
    before = revision_files(workspace)
    assert_refused(run_cli("create", "-m", message, "--workspace", str(workspace)), words)
    assert revision_files(workspace) == before


@attack("create", "after a refused message, create and lint in that workspace", "both work: nothing was left")
def test_workspace_still_works(workspace):
    refused = run_cli("create", "-m", "Fix \\x path", "--workspace", str(workspace))
    assert refused.returncode == 2
    created = run_cli("create", "-m", "add a column", "--workspace", str(workspace))
    assert created.returncode == 0, created.stderr
    linted = run_cli("lint", str(workspace / "alembic" / "versions_gxy"))
    assert linted.returncode in (0, 1) and "error:" not in linted.stderr, linted.stderr


@attack("create", "a revision file that does not parse in the workspace", "create and lint name it, exit 2")
def test_broken_file_is_named(tmp_path):
    from runbooks.code.workspace import ensure_workspace

    folder = tmp_path / "ws"
    ensure_workspace(str(folder))
    broken = next(folder.rglob("versions_gxy")) / "abc008252361_fix_x_path.py"
    broken.write_text('"""Fix \\x path"""\nrevision = "abc008252361"\ndown_revision = "fac9c76612f9"\n')
    for args in (["create", "-m", "next", "--workspace", str(folder)], ["lint", str(broken)]):
        assert_refused(run_cli(*args), broken.name, "is not a valid revision file", "fix or remove it")
    assert broken.exists()  # a file the user has is never removed for them


@attack("create", "a rendered revision that does not parse", "removed, one clear line")
def test_rendered_file_that_does_not_parse_is_removed(tmp_path):
    from runbooks.code.workspace import ensure_workspace

    env = ensure_workspace(str(tmp_path / "ws"))
    head = env.versions_dir("gxy")
    path = head / "0123456789ab_broken.py"
    path.write_text('"""Fix \\x path"""\nrevision = "0123456789ab"\n')
    created = CreatedRevision(path, "0123456789ab", "fac9c76612f9", "Fix", env, True)
    with pytest.raises(UsageError, match="removed"):
        _validate_or_remove(created, "fac9c76612f9")
    assert not path.exists()


PG_CASES = [
    attack("create", "lint --pg with an unreachable server", "exit 2, one line, no password").param(
        f"postgresql://galaxy:{PASSWORD}@127.0.0.1:1/galaxy", "cannot reach PostgreSQL"
    ),
    attack("create", "lint --pg with a URL option libpq rejects", "exit 2, one line").param(
        "postgresql://postgres@127.0.0.1:5432/postgres?bogus=1", "invalid connection option"
    ),
    attack("create", "lint --pg with a SQLite URL", "exit 2, one line").param(
        "sqlite:////tmp/x.sqlite", "not a PostgreSQL URL"
    ),
]


@pytest.mark.parametrize("url, words", PG_CASES)
def test_lint_pg_must_answer(url, words, env):
    revision = sorted(env.versions_dir("gxy").glob("*.py"))[-1]
    assert_refused(run_cli("lint", str(revision), "--pg", url), words)
