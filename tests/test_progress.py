"""Upgrade, downgrade and rehearsal show each revision as Galaxy applies it, with elapsed time."""

from __future__ import annotations

import json
import re

from runbooks.tasks.migrate import make_plan, read_rows

from conftest import run_cli

PROGRESS = re.compile(r"^ +(?:rehearsal )?\[ *\d+\.\d+s\] Running (upgrade|downgrade) (\w+) -> (\w+), ", re.M)


def applied_in_order(text: str) -> list[tuple[str, str, str]]:
    return PROGRESS.findall(text)


def test_upgrade_json_streams_each_revision_on_stderr_and_keeps_stdout_json(sqlite_db, graph):
    db = sqlite_db("26.0")
    plan = make_plan(graph, read_rows(db), "head", "upgrade")
    result = run_cli("upgrade", "--db", db.secret(), "--yes", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["target"]  # nothing but the JSON on stdout
    steps = applied_in_order(result.stderr)
    assert [to for _, _, to in steps] == list(plan.revisions)  # every revision, in the order Galaxy ran them
    assert {direction for direction, _, _ in steps} == {"upgrade"}


def test_downgrade_text_prints_each_revision_before_the_verified_outcome(sqlite_db, graph):
    db = sqlite_db("head")
    result = run_cli("downgrade", "26.0", "--db", db.secret(), "--yes")
    assert result.returncode == 0, result.stderr
    steps = applied_in_order(result.stdout)
    assert steps and {direction for direction, _, _ in steps} == {"downgrade"}
    assert steps[-1][2] == "9930b68c85af"  # 26.0's gxy revision, reached last
    assert result.stdout.index("Running downgrade") < result.stdout.index("Done: alembic_version read back")


def test_rehearsal_progress_is_marked_as_the_rehearsal(sqlite_db):
    result = run_cli("upgrade", "--db", sqlite_db("26.0").secret(), "--rehearse")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "Running upgrade" in line]
    assert lines and all(line.lstrip().startswith("rehearsal [") for line in lines)
