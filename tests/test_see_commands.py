"""Refusals whose way out is another command name it whole (issue 22, item 4): with the user's own
--db and --galaxy-root, never "with the same --db/--galaxy-root". The installed tier pastes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor import diagnose
from runbooks.errors import UsageError
from runbooks.tasks.migrate import make_plan
from runbooks.tasks.printed_commands import DatabaseArgs, command_line
from runbooks.testing.scratch_states import checkout_with_two_heads

ROOT = Path("/srv/my galaxy")  # a space: the command must quote it


def refusal(graph: RevisionGraph, rows: tuple[str, ...], target: str, database: DatabaseArgs, task: str) -> str:
    with pytest.raises(UsageError) as raised:
        make_plan(graph, rows, target, "downgrade", database)
    message = str(raised.value)
    assert f"see `{command_line(task, database=database)}`" in message, message
    assert "same --" not in message
    return message


def test_an_unknown_target_names_status_with_the_database_and_checkout(graph, tmp_path):
    database = DatabaseArgs(DatabaseUrl.parse(f"sqlite:///{tmp_path}/universe.sqlite"), ROOT)
    message = refusal(graph, tuple(graph.heads()), "0badbeef", database, "status")
    assert message.endswith(f"--db sqlite:///{tmp_path}/universe.sqlite --galaxy-root '{ROOT}'` for its ids")


def test_rows_this_code_lacks_name_troubleshoot_with_a_password_kept_out(graph):
    database = DatabaseArgs(DatabaseUrl.parse("postgresql://galaxy:secret@db.example/galaxy"), ROOT)
    message = refusal(graph, ("0badc0ffee00",), "head", database, "troubleshoot")
    assert "secret" not in message and "--db '$RUNBOOK_DB_URL' --galaxy-root" in message


def test_two_heads_name_troubleshoot_on_that_checkout(graph, tmp_path):
    two = checkout_with_two_heads(tmp_path / "galaxy", graph)
    database = DatabaseArgs(DatabaseUrl.parse(f"sqlite:///{tmp_path}/universe.sqlite"), two.root)
    message = refusal(RevisionGraph.load(two), tuple(graph.heads()), "head", database, "troubleshoot")
    assert f"--galaxy-root {two.root}`" in message and "2 heads" in message


def test_behind_a_two_headed_checkout_the_fix_merges_before_it_upgrades(graph, sqlite_db, tmp_path):
    """Pasted as it was, the database-behind fix's upgrade refused ("merge them first"): the merge comes first."""
    two = checkout_with_two_heads(tmp_path / "galaxy", graph)
    report = diagnose(sqlite_db("head"), RevisionGraph.load(two), two, rehearse=False)
    fix = report.get("database-behind").fix
    assert fix.startswith("merge the code's gxy heads first (see multiple-heads); then `"), fix
    assert "multiple-heads" in report.codes
