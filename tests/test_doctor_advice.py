"""Advice with proof: on databases Galaxy's own releases made, the doctor prints only the errors a
rehearsal proves, and a statement that drops, alters or deletes only after a rehearsal on a copy with
it applied reached the target (issue 12, item 2)."""

from __future__ import annotations

import re

import pytest

from runbooks.doctor import diagnose
from runbooks.tasks.migrate import read_rows
from runbooks.tasks.rehearsal import prove_fix

from conftest import postgresql_from_release, sqlite_from_release

DESTRUCTIVE = re.compile(r"\b(DROP|ALTER|DELETE)\b")
HEAD_ROWS = {"fac9c76612f9", "d4a650f47a3c"}


def _destructive_fixes(report) -> list[str]:
    return [f"{f.code}: {f.fix}" for f in report.findings if DESTRUCTIVE.search(f.fix)]


def test_25_0_4_sqlite_only_the_rehearsed_error_and_a_proven_fix(tmp_path, graph):
    db = sqlite_from_release("25.0.4", tmp_path)
    report = diagnose(db, graph)
    errors = [f.code for f in report.findings if f.severity == "error"]
    # database-behind is the state itself (25.0 code under 26.1 code); the only predicted failure is the proven one
    assert errors == ["database-behind", "upgrade-will-fail"], report.text()
    assert "objects-already-exist" not in report.codes, report.text()  # c0959ad462b2 checks column_exists
    failure = report.get("upgrade-will-fail")
    assert "a5c5455b849a" in failure.summary and "no such column: params" in failure.summary
    proof = failure.details["proof"]
    assert proof["proven"] is True and "DROP INDEX IF EXISTS ix_job_params;" in proof["statements"]
    assert _destructive_fixes(report) == [f"upgrade-will-fail: {failure.fix}"]
    # The proof is real: the same statements, then the upgrade, reach head on another copy.
    from runbooks.tasks.migrate import make_plan

    plan = make_plan(graph, tuple(read_rows(db)), "head", "upgrade")
    assert prove_fix(db, plan, proof["statements"]).proven


def test_25_0_4_postgresql_has_no_predicted_failure(pg_database, graph):
    db = postgresql_from_release("25.0.4", pg_database())
    report = diagnose(db, graph)
    assert [f.code for f in report.findings if f.severity == "error"] == ["database-behind"], report.text()
    assert _destructive_fixes(report) == [], report.text()


@pytest.mark.parametrize("release", ["25.1.3", "26.0.2"])
def test_other_release_databases_get_no_unproven_destructive_advice(tmp_path, graph, release):
    report = diagnose(sqlite_from_release(release, tmp_path), graph)
    for item in report.findings:
        if DESTRUCTIVE.search(item.fix):
            assert item.details.get("proof", {}).get("proven") or item.details.get("proven"), report.text()


def test_unproven_fix_prints_no_statement(tmp_path, graph, monkeypatch):
    """When the fix's rehearsal does not reach the target, the finding says what was seen, not what to drop."""
    from runbooks.doctor.checks import upgrade_rehearsal  # noqa: F401 - imported for the patch target
    from runbooks.tasks import rehearsal

    real = rehearsal.prove_fix

    def failing(db, plan, statements, env=None):
        return real(db, plan, ("SELECT no_such_function()",), env)

    monkeypatch.setattr(rehearsal, "prove_fix", failing)
    report = diagnose(sqlite_from_release("25.0.4", tmp_path), graph)
    failure = report.get("upgrade-will-fail")
    assert failure.details["proof"]["proven"] is False
    assert "no statement is given" in failure.fix and not DESTRUCTIVE.search(failure.fix), failure.fix


def _backquoted(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def test_multiple_current_advice_followed_literally_ends_at_the_release(tmp_path, sqlite_store, graph):
    """Issue 22: "downgrade REV@-1 for each row" went one revision below 25.0; the steps printed now reach it."""
    import shlex
    import shutil

    from runbooks.database.urls import DatabaseUrl
    from runbooks.galaxy.commands import run_dbscript
    from runbooks.testing.scratch_states import make_state

    head = DatabaseUrl.parse(f"sqlite:///{sqlite_store('head')}")
    db = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'multiple.sqlite'}")
    make_state("multiple-current", db, graph, head=head)  # Galaxy's own `downgrade 25.0` from head
    copy = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'copy.sqlite'}")
    shutil.copyfile(db.sqlite_path, copy.sqlite_path)
    fix = diagnose(db, graph, rehearse=False).get("multiple-current-revisions").fix
    release_rows = {graph.tag_revision("25.0"), "d4a650f47a3c"}
    # Galaxy's own steps, as printed, run one by one with Galaxy's DbScript
    galaxy_steps = [step for step in _backquoted(fix.split("Galaxy's own steps:", 1)[1]) if "downgrade" in step]
    assert galaxy_steps and all(step.startswith("sh manage_db.sh downgrade ") for step in galaxy_steps), fix
    for step in galaxy_steps:
        run_dbscript(db, "downgrade", revision=shlex.split(step)[-1])
    assert set(read_rows(db)) == release_rows, fix
    # this tool's command, as printed (with the database named), on the copy
    from conftest import run_cli

    (ours,) = [step for step in _backquoted(fix) if " downgrade 25.0" in step]
    words = shlex.split(ours)
    args = words[words.index("downgrade") :]
    args[args.index("--db") + 1] = copy.secret()
    result = run_cli(*args, "--yes", "--no-backup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(read_rows(copy)) == release_rows
