"""Upgrade and downgrade through Galaxy's own code, verified by reading alembic_version back."""

from __future__ import annotations

import json
import sqlite3

import pytest

from runbooks.errors import Refused, UsageError
from runbooks.tasks.change import apply_change, check_sessions, plan_change, run_rehearsal
from runbooks.tasks.migrate import make_plan, read_rows
from runbooks.tasks.selection import Selection

from conftest import run_cli

TSI = "d4a650f47a3c"

UPGRADE_FORMS = [
    ("head", {"fac9c76612f9", TSI}),
    ("26.0", {"9930b68c85af", TSI}),
    ("release_26.0", {"9930b68c85af", TSI}),
    ("9930b68c85af", {"9930b68c85af", TSI}),
    ("9930b6", {"9930b68c85af", TSI}),
    ("gxy@head", {"fac9c76612f9", TSI}),
    ("gxy@+1", {"566b691307a5", TSI}),
    ("+1", {"566b691307a5", TSI}),
    ("9930b68c85af+2", {"f5e9e4bca542", TSI}),
]
DOWNGRADE_FORMS = [
    ("25.1", {"63dc6cca023f", TSI}),
    ("release_25.1", {"63dc6cca023f", TSI}),
    ("312602e3191d", {"312602e3191d", TSI}),
    ("312602", {"312602e3191d", TSI}),
    ("gxy@-1", {"312602e3191d", TSI}),
    ("-1", {"312602e3191d", TSI}),
    ("9930b68c85af-1", {"312602e3191d", TSI}),
    ("base", set()),
    ("22.01", set()),
]


def change(db, env, target, direction):
    selection = Selection(db, env, "argument")
    planned = plan_change(selection, target, direction)
    apply_change(planned)
    return planned


@pytest.mark.parametrize("target, expected", UPGRADE_FORMS, ids=[t for t, _ in UPGRADE_FORMS])
def test_upgrade_target_forms_sqlite(sqlite_db, env, target, expected):
    done = change(sqlite_db("26.0"), env, target, "upgrade")
    assert done.succeeded and set(read_rows(done.selection.db)) == expected


@pytest.mark.parametrize("target, expected", DOWNGRADE_FORMS, ids=[t for t, _ in DOWNGRADE_FORMS])
def test_downgrade_target_forms_sqlite(sqlite_db, env, target, expected):
    done = change(sqlite_db("26.0"), env, target, "downgrade")
    assert done.succeeded and set(read_rows(done.selection.db)) == expected


def test_no_relative_step_starts_from_a_merge(graph):
    """`REV@-1` from a merge revision is Alembic's "Ambiguous walk" (sample --release 24.1 failed on it):
    24.1's side branch holds the merge eee9229a9765, undone by downgrading to its side parent instead."""
    for tag in graph.release_tags:
        if tag == "22.01":
            continue
        plan = make_plan(graph, tuple(graph.heads()), tag, "downgrade")
        relative = [call.revision.removesuffix("@-1") for call in plan.calls if call.revision.endswith("@-1")]
        assert not [rid for rid in relative if graph.revisions[rid].is_merge], tag
    calls = [call.revision for call in make_plan(graph, tuple(graph.heads()), "24.1", "downgrade").calls]
    assert calls == ["04288b6a5b25", "570bce1e82f9", "570bce1e82f9@-1"]


@pytest.mark.parametrize("target", ["25.0", "25.1", "24.1"])
def test_downgrade_across_merges_leaves_one_row_per_branch(sqlite_db, env, graph, target):
    db = sqlite_db("head")
    plan = make_plan(graph, read_rows(db), target, "downgrade")
    assert plan.notes and "would leave" in plan.notes[0]  # the plan says so
    assert any(call.revision.endswith("@-1") for call in plan.calls)
    done = change(db, env, target, "downgrade")
    assert done.succeeded
    assert set(read_rows(db)) == {graph.tag_revision(target), TSI}


@pytest.mark.parametrize(
    "target, message",
    [
        ("99.9", "is not a target"),
        ("zzz", "is not a target"),
        ("e", "is ambiguous"),
        ("abcdef0123", "no revision 'abcdef0123'"),
        ("fac9c76612f9+1", "goes past the head"),
        ("tsi@+1", "only supported on the gxy branch"),
    ],
)
def test_bad_targets_are_clear(sqlite_db, env, target, message):
    db = sqlite_db("26.0")
    with pytest.raises(UsageError, match=message):
        plan_change(Selection(db, env, "argument"), target, "upgrade")
    result = run_cli("upgrade", target, "--db", db.secret(), "--yes")
    assert result.returncode == 2 and message.split("'")[0] in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_direction_is_refused(sqlite_db, env):
    with pytest.raises(UsageError, match="use downgrade"):
        plan_change(Selection(sqlite_db("26.0"), env, "argument"), "25.0", "upgrade")
    with pytest.raises(UsageError, match="use upgrade"):
        plan_change(Selection(sqlite_db("25.0"), env, "argument"), "26.0", "downgrade")


def test_plan_names_dialect_effects(sqlite_db, env):
    result = run_cli("upgrade", "--db", sqlite_db("25.0").secret(), "--rehearse")
    assert result.returncode == 0, result.stderr
    assert "b8d5e2f9a1c7 (gxy) Add pg_notify to history audit triggers" in result.stdout
    assert "no-op on sqlite (only does something on postgresql)" in result.stdout
    assert "merge revision: no schema change" in result.stdout
    assert "data fix: changes rows that a downgrade does not restore" in result.stdout
    assert "Rehearsal passed on a copy of the SQLite file" in result.stdout


def test_rehearsal_records_sql_and_leaves_the_database_alone(sqlite_db, env):
    db = sqlite_db("25.0")
    before = db.sqlite_path.read_bytes()
    planned = plan_change(Selection(db, env, "argument"), "head", "upgrade")
    rehearsal = run_rehearsal(planned)
    assert rehearsal.succeeded
    assert "ALTER TABLE dataset_source ADD COLUMN requested_transform BLOB" in rehearsal.changes
    assert db.sqlite_path.read_bytes() == before


def test_cli_needs_a_yes_outside_a_terminal(sqlite_db):
    db = sqlite_db("25.0")
    result = run_cli("upgrade", "--db", db.secret())
    assert result.returncode == 2 and "pass --yes" in result.stderr
    assert read_rows(db) == ("d4a650f47a3c", "c716ee82337b") or set(read_rows(db)) == {TSI, "c716ee82337b"}


def test_cli_upgrade_json_report_and_backup(sqlite_db):
    db = sqlite_db("26.0")
    result = run_cli("upgrade", "--db", db.secret(), "--yes", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["succeeded"] and report["outcome"]["reached"]
    assert set(report["outcome"]["alembic_version"]) == {"fac9c76612f9", TSI}
    assert report["after"]["state"] == "up-to-date"
    backup = report["backup"]["path"]
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as conn:
        assert {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")} == {"9930b68c85af", TSI}


def test_sqlite_lock_held_by_another_process_is_refused(sqlite_db, env, sqlite_writer):
    db = sqlite_db("26.0")
    holder = sqlite_writer(db.sqlite_path)
    planned = plan_change(Selection(db, env, "argument"), "head", "upgrade")
    with pytest.raises(Refused, match=f"pid {holder.pid} holds a reserved lock"):
        check_sessions(planned)
    result = run_cli("upgrade", "--db", db.secret(), "--yes", timeout=60)
    assert result.returncode == 1 and f"pid {holder.pid}" in result.stderr


def test_states_that_must_not_be_migrated_are_refused(tmp_path, sqlite_db, env):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER)")
    result = run_cli("upgrade", "--db", f"sqlite:///{other}", "--yes")
    assert result.returncode == 1 and "no version table" in result.stderr
    missing = tmp_path / "missing.sqlite"
    assert run_cli("upgrade", "--db", f"sqlite:///{missing}", "--yes").returncode == 1
    assert not missing.exists()


@pytest.mark.parametrize("target, expected", UPGRADE_FORMS, ids=[t for t, _ in UPGRADE_FORMS])
def test_upgrade_target_forms_postgresql(pg_db, env, target, expected):
    done = change(pg_db("26.0"), env, target, "upgrade")
    assert done.succeeded and set(read_rows(done.selection.db)) == expected


@pytest.mark.parametrize("target, expected", DOWNGRADE_FORMS, ids=[t for t, _ in DOWNGRADE_FORMS])
def test_downgrade_target_forms_postgresql(pg_db, env, target, expected):
    done = change(pg_db("26.0"), env, target, "downgrade")
    assert done.succeeded and set(read_rows(done.selection.db)) == expected


def test_postgresql_downgrade_across_merge_and_rehearsal(pg_db, env, graph):
    db = pg_db("head")
    planned = plan_change(Selection(db, env, "argument"), "25.0", "downgrade")
    for full, copied in ((False, "copy of the schema"), (True, "TEMPLATE")):  # the default, and --rehearse=full
        rehearsal = run_rehearsal(planned, full=full)
        assert rehearsal.succeeded and copied in rehearsal.copy_method, rehearsal.copy_method
        assert any("DROP COLUMN requested_transform" in s for s in rehearsal.changes)
        assert set(read_rows(db)) == {"fac9c76612f9", TSI}  # the rehearsal left the database alone
    apply_change(planned)
    assert planned.succeeded and set(read_rows(db)) == {"c716ee82337b", TSI}


@pytest.mark.parametrize(
    "tag, leftover", [("25.0", {"fb16d09348db", "c716ee82337b"}), ("25.1", {"724237cc4cf0", "63dc6cca023f"})]
)
def test_galaxy_plain_downgrade_leaves_side_branch_rows_and_our_plan_names_them(sqlite_db, graph, tag, leftover):
    from runbooks.galaxy import commands as galaxy_commands

    db = sqlite_db("head")
    galaxy_commands.run_dbscript(db, "downgrade", revision=tag)
    assert set(read_rows(db)) == leftover | {TSI}
    plan = make_plan(graph, ("fac9c76612f9", TSI), tag, "downgrade")
    (extra,) = leftover - {graph.tag_revision(tag)}
    assert extra in plan.notes[0]


def test_revision_effects_named_in_the_guide(graph):
    from runbooks.code.effects import effects

    for rev_id in ("a91ea1d97111", "c716ee82337b", "b8d5e2f9a1c7"):
        assert effects(graph.revisions[rev_id]).upgrade_runs_on == "postgresql"
    for rev_id in ("e93c5d0b47a9", "c716ee82337b"):
        assert effects(graph.revisions[rev_id]).one_way
    assert effects(graph.revisions["c44ae5f3dcf1"]).merge
    assert "table celery_user_active_task" in effects(graph.revisions["f5e9e4bca542"]).drops_on_downgrade


def test_postgresql_failure_names_the_revision_and_the_real_error(pg_db):
    """On PostgreSQL a ProgrammingError escapes Galaxy's env: still report where and why."""
    db = pg_db("26.0")
    from runbooks.database.connections import connect_postgresql

    conn = connect_postgresql(db)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("ALTER TABLE job ADD COLUMN tool_state TEXT")  # what 566b691307a5 will add
    conn.close()
    result = run_cli("upgrade", "--db", db.secret(), "--yes", "--no-backup")
    assert result.returncode == 1
    assert "NOT DONE" in result.stdout
    assert "stopped while running: upgrade 9930b68c85af -> 566b691307a5" in result.stdout
    assert 'column "tool_state" of relation "job" already exists' in result.stdout
    assert set(read_rows(db)) == {"9930b68c85af", TSI}


def test_plans_flag_data_loss_both_ways(sqlite_db, env, graph):
    """An upgrade that drops a column says so, as a downgrade that drops one does, in text and JSON (issue 22)."""
    from runbooks.cli.render import change_json, plan_text

    def step_notes(text: str, rev_id: str) -> list[str]:
        lines = text.split(f"  {rev_id} (gxy)", 1)[1].splitlines()[1:]
        end = next(i for i, line in enumerate(lines) if line[6:7] != "-")
        return [line.removeprefix("      - ") for line in lines[:end]]

    up = plan_change(Selection(sqlite_db("25.1"), env, "argument"), "head", "upgrade")
    text = plan_text(up.plan, graph, "sqlite")
    assert "drops column job.params (data in it is lost: a downgrade does not bring it back)" in step_notes(
        text, "a5c5455b849a"
    )
    losses = {entry["revision"]: entry["losses"] for entry in change_json(up)["plan"]["data_loss"]}
    dropped = "drops column job.params (data in it is lost: a downgrade does not bring it back)"
    assert losses["a5c5455b849a"] == [dropped]
    assert "data fix: changes rows that a downgrade does not restore" in losses["566b691307a5"]
    assert "c44ae5f3dcf1" not in losses  # a merge loses nothing

    down = plan_change(Selection(sqlite_db("head"), env, "argument"), "25.1", "downgrade")
    text = plan_text(down.plan, graph, "sqlite")
    assert "data fix: the rows its upgrade changed stay as they are" in step_notes(text, "566b691307a5")
    losses = {entry["revision"]: entry["losses"] for entry in change_json(down)["plan"]["data_loss"]}
    assert losses["566b691307a5"] == [
        "drops column tool_source.source_class, column job.tool_state (data in it is lost: an upgrade does not "
        "bring it back)"
    ]
    assert "a5c5455b849a" not in losses  # its downgrade adds the column back (empty): nothing more is lost
