"""The scoped rehearsal (issue 26): the schema of everything, the rows of the tables the revisions touch,
and the data preconditions on the other tables checked read-only on the live database.

On PostgreSQL, for real: a revision on top of Galaxy's head (in a workspace) makes four demands on
the rows of tables it does not read (NOT NULL over NULLs, a unique constraint over duplicates, a
foreign key over orphans, a shorter type over a longer value). The scoped copy has none of those
rows, so the upgrade passes there; the four preconditions must each find their rows on the live
database, and the full copy that confirms them must stop where a full rehearsal stops. With the
rows fixed, the same rehearsal passes on the scoped copy with every precondition holding.
"""

from __future__ import annotations

import pytest

from runbooks.code.revisions import RevisionGraph
from runbooks.code.sql_tables import needs
from runbooks.code.workspace import ensure_workspace
from runbooks.database.scratch import run_statements
from runbooks.tasks.migrate import make_plan, read_rows
from runbooks.tasks.rehearsal import rehearse

REVISION = '''"""Four demands on existing rows (issue 26 test)

Revision ID: 26a0c0ffee01
Revises: {parent}
"""
import sqlalchemy as sa

from galaxy.model.migrations.util import alter_column, create_foreign_key, create_unique_constraint, transaction

revision = "26a0c0ffee01"
down_revision = "{parent}"
branch_labels = None
depends_on = None


def upgrade():
    with transaction():
        alter_column("role", "description", existing_type=sa.TEXT, nullable=False)
        create_unique_constraint("role_type_key", "role", ["type"])
        create_foreign_key("history_user_id_fkey", "history", "galaxy_user", ["user_id"], ["id"])
        alter_column("galaxy_group", "name", existing_type=sa.String(255), type_=sa.String(5))


def downgrade():
    pass
'''
BAD_ROWS = [
    "INSERT INTO role (name, description, type) VALUES ('r1', NULL, 'same'), ('r2', 'two', 'same')",
    "ALTER TABLE history DROP CONSTRAINT history_user_id_fkey",
    "INSERT INTO history (name, user_id) VALUES ('orphan', 424242)",
    "INSERT INTO galaxy_group (name) VALUES ('longer than five')",
]
FIXED_ROWS = [
    "UPDATE role SET description = 'd', type = name",
    "UPDATE history SET user_id = NULL",
    "UPDATE galaxy_group SET name = 'ok'",
]
KINDS = {"not null", "unique", "foreign key", "type"}


@pytest.fixture
def workspace(tmp_path, graph):
    env = ensure_workspace(tmp_path / "ws")
    parent = graph.heads("gxy")[0]
    (env.versions_dir("gxy") / "26a0c0ffee01_four_demands.py").write_text(REVISION.format(parent=parent))
    return env


def test_each_precondition_kind_is_caught_on_the_live_rows_then_passes_once_fixed(pg_db, workspace):
    db = pg_db("head")
    run_statements(db, BAD_ROWS)
    graph = RevisionGraph.load(workspace)
    plan = make_plan(graph, read_rows(db), "heads", "upgrade")
    assert plan.revisions == ["26a0c0ffee01"]

    failed = rehearse(db, plan, workspace)
    assert not failed.succeeded
    assert {p.kind for p in failed.scoped_found} == KINDS, [p.describe() for p in failed.scoped_found]
    assert all(p.rows or p.error for p in failed.scoped_found)
    assert failed.scope.mode == "full" and "precondition" in failed.scope.reason  # confirmed on a full copy
    assert "26a0c0ffee01" in failed.outcome.stopped_at and "description" in failed.outcome.errors[0]

    run_statements(db, FIXED_ROWS)
    passed = rehearse(db, plan, workspace)
    assert passed.succeeded and passed.scope.mode == "scoped", passed.summary()
    assert {p.kind for p in passed.scope.preconditions} == KINDS and passed.scope.holds
    assert "role" not in passed.scope.copied and "history" not in passed.scope.copied  # their rows stayed live
    ways = {r.revision: r.way for r in passed.scope.revisions}
    assert ways == {"26a0c0ffee01": "schema plus preconditions"}


@pytest.mark.parametrize(
    ("sql", "reads", "unknown"),
    [
        ("UPDATE tool_source SET source_class = 'x' WHERE source_class IS NULL", {"tool_source"}, False),
        (
            "INSERT INTO a (x) SELECT y FROM b, c AS cc JOIN d ON 1 = 1 WHERE z IN (SELECT id FROM e)",
            set("abcde"),
            False,
        ),
        (
            "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ INSERT INTO h SELECT 1 FROM t $$ LANGUAGE sql",
            set(),
            False,
        ),
        ("CREATE INDEX ix ON public.page (x)", {"page"}, False),
        ("CREATE UNIQUE INDEX ix ON job (a)", set(), False),  # a precondition, not rows
        ("ALTER TABLE job ALTER COLUMN x TYPE bigint USING x * 2", {"job"}, False),
        ("DO $$ BEGIN PERFORM 1; END $$", set(), True),
    ],
)
def test_which_rows_a_statement_needs(sql, reads, unknown):
    found = needs(sql)
    assert found.reads == reads and bool(found.unknown) == unknown


@pytest.mark.parametrize(
    ("argv", "target", "mode"),
    [
        (["upgrade", "--rehearse", "26.0"], "26.0", "scoped"),
        (["downgrade", "--rehearse", "25.0"], "25.0", "scoped"),
        (["upgrade", "--rehearse=full", "26.0"], "26.0", "full"),
        (["upgrade", "26.0", "--rehearse=scoped"], "26.0", "scoped"),
        (["upgrade"], "head", None),
    ],
)
def test_rehearse_modes_leave_the_target_alone(argv, target, mode):
    """`--rehearse` takes no value of its own: `upgrade --rehearse 26.0` rehearses the upgrade to 26.0."""
    from runbooks.cli.main import REHEARSE_MODES, build_parser

    args = build_parser().parse_args([REHEARSE_MODES.get(arg, arg) for arg in argv])
    assert (args.target, args.rehearse) == (target, mode)


def test_an_unknown_rehearse_mode_is_one_line(capsys):
    from runbooks.cli.main import main

    assert main(["upgrade", "--rehearse=quick"]) == 2
    err = capsys.readouterr().err
    assert "quick" in err and len(err.strip().splitlines()) == 1
