"""The revision lint (runbooks.lint), its calibration on Galaxy's revisions, and squawk.

Fast: revision files are parsed, never imported (no galaxy.model import).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import Revision, RevisionGraph
from runbooks.errors import UsageError
from runbooks.lint.calibration import calibrate, render_calibration_markdown
from runbooks.lint.command import exit_code, format_text, lint_file, lint_paths, results_to_json
from runbooks.lint.registry import RULES
from runbooks.lint.squawk import squawk_sql

SAMPLES = Path(__file__).parent / "lint_samples"
REPO = Path(__file__).parent.parent

HEADER = '''"""{message}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-01-01 00:00:00

"""

import sqlalchemy as sa
from alembic import op

from galaxy.model.migrations.util import (
    _is_sqlite,
    add_column,
    create_index,
    drop_column,
    transaction,
)

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None
'''


def write_revision(folder: Path, body: str, rev: str = "c0ffee000001", down="fedcba987654", message="m") -> Path:
    path = folder / f"{rev}_sample.py"
    path.write_text(HEADER.format(message=message, rev=rev, down=down) + body)
    return path


def rules_of(findings) -> set[str]:
    return {f.rule for f in findings}


def fake_graph(*revisions: tuple[str, tuple[str, ...]], path_of=None) -> RevisionGraph:
    """A gxy graph from (id, parents) pairs; files live nowhere unless ``path_of`` names one."""
    path_of = path_of or {}
    return RevisionGraph(
        {
            rev: Revision(rev, parents, "gxy", "", Path(path_of.get(rev, f"/nowhere/{rev}_.py")))
            for rev, parents in revisions
        }
    )


@pytest.fixture(scope="module")
def galaxy_versions() -> Path:
    return GalaxyEnv.from_package().versions_dir("gxy")


@pytest.fixture(scope="module")
def report(galaxy_versions):
    return calibrate(galaxy_versions, label="galaxy-data versions_gxy")


# -- each rule fires on a bad file and stays quiet on a good one ------------------------


@pytest.mark.parametrize(
    "sample, rule, count",
    [
        ("bad_missing_downgrade.py", "missing-downgrade", 1),
        ("bad_downgrade_only_passes.py", "downgrade-only-passes", 1),
        ("bad_no_transaction.py", "no-transaction", 1),
        ("bad_raw_op_call.py", "raw-op-call", 2),
        ("bad_index_locks_table.py", "index-locks-table", 3),
        ("bad_foreign_key_locks_table.py", "foreign-key-locks-table", 1),
        ("bad_not_null_without_default.py", "not-null-without-default", 1),
        ("bad_unbatched_data_change.py", "unbatched-data-change", 3),
        ("not_a_revision.py", "not-a-revision", 1),
    ],
)
def test_bad_sample_fires_only_its_rule(sample, rule, count):
    findings = lint_file(SAMPLES / sample)
    assert [f.rule for f in findings] == [rule] * count, findings
    for f in findings:
        assert f.severity == RULES[rule].severity
        assert f.message and f.fix
        assert f.line >= 0


@pytest.mark.parametrize("sample", ["good_revision.py", "good_one_way.py", "good_merge.py"])
def test_good_samples_are_quiet(sample):
    assert lint_file(SAMPLES / sample) == []


def test_every_content_rule_has_a_bad_sample():
    fired = set()
    for path in SAMPLES.glob("*.py"):
        fired |= rules_of(lint_file(path))
    graph_rules = {
        "not-current-head",
        "duplicate-revision-id",
        "not-python",
    }  # tested below
    assert set(RULES) - graph_rules <= fired


def test_rule_ids_are_stable_kebab_case():
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", rule) for rule in RULES)
    assert all(r.severity in ("error", "warning", "info") for r in RULES.values())


def test_one_way_wording_galaxy_uses(tmp_path):
    upgrade = "\n\ndef upgrade():\n    add_column('workflow', sa.Column('x', sa.Text))\n\n\n"
    variants = {
        "comment": "def downgrade():\n    # No need to downgrade, this is a one-way migration.\n    pass\n",
        "docstring": 'def downgrade():\n    """This revision is a fix, so no downgrade is necessary."""\n',
        "comment above": "# irreversible: the old values are gone\ndef downgrade():\n    pass\n",
    }
    for name, downgrade in variants.items():
        path = write_revision(tmp_path, upgrade + downgrade)
        assert "downgrade-only-passes" not in rules_of(lint_file(path)), name
    path = write_revision(tmp_path, upgrade + "def downgrade():\n    # TODO\n    pass\n")
    assert rules_of(lint_file(path)) == {"downgrade-only-passes"}


def test_transaction_rule_follows_local_helpers_loops_and_dialects(tmp_path):
    body = """

def upgrade():
    _add_columns()


def _add_columns():
    add_column("page", sa.Column("a", sa.Text))
    add_column("page", sa.Column("b", sa.Text))


def downgrade():
    for name in ("a", "b"):
        drop_column("page", name)
"""
    findings = lint_file(write_revision(tmp_path, body))
    assert [(f.rule, f.line) for f in findings] == [
        ("no-transaction", 26),
        ("no-transaction", 35),
    ]

    body = """

def upgrade():
    if _is_sqlite():
        return
    op.execute("CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql")
    op.execute("CREATE TRIGGER t AFTER UPDATE ON page FOR EACH STATEMENT EXECUTE FUNCTION f()")


def downgrade():
    if not _is_sqlite():
        op.execute("DROP TRIGGER t ON page")
        op.execute("DROP FUNCTION f()")
"""
    assert lint_file(write_revision(tmp_path, body)) == []


def test_raw_batch_alter_table_and_sqlite_only_index(tmp_path):
    body = """

def upgrade():
    with transaction():
        with op.batch_alter_table("page") as batch_op:
            batch_op.add_column(sa.Column("a", sa.Text))
        if _is_sqlite():
            create_index("ix_job_a", "job", ["a"])


def downgrade():
    with transaction():
        drop_column("page", "a")
"""
    findings = lint_file(write_revision(tmp_path, body))
    assert [(f.rule, f.line) for f in findings] == [("raw-op-call", 28)]


# -- not-current-head and friends (need the revision graph) ---------------------------


def test_not_current_head_with_a_graph():
    good = SAMPLES / "good_revision.py"  # revision 1a2b3c4d5e6f, down_revision fedcba987654
    on_head = fake_graph(("0123456789ab", ()), ("fedcba987654", ("0123456789ab",)))
    assert lint_file(good, on_head) == []

    moved_on = fake_graph(
        ("0123456789ab", ()),
        ("fedcba987654", ("0123456789ab",)),
        ("abcdefabcdef", ("fedcba987654",)),
    )
    findings = lint_file(good, moved_on)
    assert rules_of(findings) == {"not-current-head"}
    down_line = good.read_text().splitlines().index('down_revision = "fedcba987654"') + 1
    assert "abcdefabcdef" in findings[0].fix and findings[0].line == down_line

    unknown = lint_file(SAMPLES / "good_one_way.py", on_head)  # down_revision 1a2b3c4d5e6f: not in the graph
    assert rules_of(unknown) == {"not-current-head"}
    assert "not a revision of this Galaxy code" in unknown[0].message

    two_heads = fake_graph(
        ("0123456789ab", ()),
        ("1a2b3c4d5e6f", ("0123456789ab",)),
        ("2b3c4d5e6f70", ("0123456789ab",)),
    )
    assert lint_file(SAMPLES / "good_merge.py", two_heads) == []


def test_revision_already_in_the_graph(tmp_path):
    good = SAMPLES / "good_revision.py"
    duplicate = fake_graph(("fedcba987654", ()), ("1a2b3c4d5e6f", ("fedcba987654",)))
    assert rules_of(lint_file(good, duplicate)) == {
        "duplicate-revision-id",
        "not-current-head",
    }

    same_file = fake_graph(
        ("fedcba987654", ()),
        ("1a2b3c4d5e6f", ("fedcba987654",)),
        path_of={"1a2b3c4d5e6f": good},
    )
    assert lint_file(good, same_file) == []
    split = fake_graph(
        ("fedcba987654", ()),
        ("1a2b3c4d5e6f", ("fedcba987654",)),
        ("777777777777", ("fedcba987654",)),
        path_of={"1a2b3c4d5e6f": good},
    )
    findings = lint_file(good, split)
    assert rules_of(findings) == {"not-current-head"} and "2 heads" in findings[0].message


def test_not_current_head_against_galaxys_graph(tmp_path, galaxy_versions):
    graph = RevisionGraph.load(GalaxyEnv.from_package())
    (head,) = graph.heads("gxy")
    body = "\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    assert lint_file(write_revision(tmp_path, body, down=head), graph) == []
    older = graph.revisions[head].parents[0]
    assert rules_of(lint_file(write_revision(tmp_path, body, down=older), graph)) == {"not-current-head"}
    # Galaxy's own revisions are part of the graph: no graph finding.
    results = lint_paths([galaxy_versions], graph)
    assert not any(f.rule in ("not-current-head", "duplicate-revision-id") for fs in results.values() for f in fs)


# -- files that are not revisions: one finding or one UsageError, never a traceback ----


def test_not_python_and_bad_paths(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text('revision = "abc"\ndef upgrade(:\n')
    (f,) = lint_file(broken)
    assert (f.rule, f.line, f.severity) == ("not-python", 2, "error")

    binary = tmp_path / "image.py"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert rules_of(lint_file(binary)) == {"not-python"}
    nul = tmp_path / "nul.py"
    nul.write_bytes(b"revision = 'abc'\x00\n")
    assert rules_of(lint_file(nul)) == {"not-python"}

    with pytest.raises(UsageError, match="no such file"):
        lint_file(tmp_path / "missing.py")
    with pytest.raises(UsageError, match="no such file"):
        lint_paths([tmp_path / "missing.py"])
    with pytest.raises(UsageError, match="is a directory"):
        lint_file(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no .py files"):
        lint_paths([empty])
    for error in (UsageError("x"),):
        assert error.exit_code == 2


def test_output_helpers():
    results = lint_paths([SAMPLES / "bad_missing_downgrade.py", SAMPLES / "bad_no_transaction.py"])
    text = format_text(results)
    assert f"{SAMPLES / 'bad_missing_downgrade.py'}:1: error [missing-downgrade]" in text
    assert "fix:" in text and text.endswith("2 file(s) checked: 1 error(s), 1 warning(s)")
    assert exit_code(results) == 1
    warnings_only = lint_paths([SAMPLES / "bad_no_transaction.py"])
    assert exit_code(warnings_only) == 0 and exit_code(warnings_only, strict=True) == 1
    document = json.loads(json.dumps(results_to_json(results)))
    assert document["summary"] == {"files": 2, "errors": 1, "warnings": 1, "info": 0}
    assert document["files"][str(SAMPLES / "bad_no_transaction.py")][0]["rule"] == "no-transaction"


# -- calibration on Galaxy's own revisions ------------------------------------------------


def test_calibration_counts_are_plausible(report):
    files = len(report.files)
    assert files >= 75  # 81 in 26.1.2
    per_rule = {rule: len(names) for rule, names in report.files_per_rule.items()}
    # Galaxy's own revisions load: nothing is unparsable, every file is a revision.
    assert per_rule["not-python"] == 0 and per_rule["not-a-revision"] == 0
    # Every revision has a downgrade; the pass-only ones are merges/base or say they are one-way.
    assert per_rule["missing-downgrade"] == 0
    assert per_rule["downgrade-only-passes"] <= 3
    # Galaxy revisions use the helpers (op only for execute/get_bind) and WHERE on big tables.
    assert per_rule["raw-op-call"] <= 3
    assert per_rule["unbatched-data-change"] <= 3
    # Rules that do fire on Galaxy's history (11, 7, 4 and 1 files in 26.1.2).
    assert 4 <= per_rule["no-transaction"] <= 25
    assert 3 <= per_rule["index-locks-table"] <= 15
    assert 2 <= per_rule["foreign-key-locks-table"] <= 10
    assert 1 <= per_rule["not-null-without-default"] <= 5
    # No rule is noise: none fires on a third of Galaxy's files.
    assert max(per_rule.values()) < files / 3
    assert report.rule_counts["no-transaction"] >= per_rule["no-transaction"]
    # The graph rules need a graph; calibration has none.
    assert per_rule["not-current-head"] == 0 and per_rule["duplicate-revision-id"] == 0


def test_calibration_respects_galaxys_one_way_wording_and_transactions(report, galaxy_versions):
    flagged = {name for names in report.files_per_rule.values() for name in names}
    for one_way in ("e93c5d0b47a9", "c716ee82337b"):  # comment / docstring say one-way
        if list(galaxy_versions.glob(f"{one_way}_*.py")):
            assert not any(name.startswith(one_way) for name in report.files_per_rule["downgrade-only-passes"])
    # Files whose every statement is inside `with transaction():` never get no-transaction.
    for path in galaxy_versions.glob("*.py"):
        text = path.read_text()
        if text.count("with transaction():") >= 2 and path.name in report.files_per_rule["no-transaction"]:
            pytest.fail(f"no-transaction on {path.name}, which uses transaction() in both functions")
    assert report.worst_files and report.worst_files[0][1] >= report.worst_files[-1][1]
    assert all(name in flagged for name, _ in report.worst_files)


def test_calibration_markdown_is_pure_and_complete(report, galaxy_versions):
    markdown = render_calibration_markdown(report)
    assert markdown == render_calibration_markdown(report)
    assert markdown.startswith("# Revision lint rules")
    for rule in RULES:
        assert f"`{rule}`" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| [`no-transaction`]"))
    assert f"| {report.rule_counts['no-transaction']} | {len(report.files_per_rule['no-transaction'])} |" in row
    assert "## Files with the most findings" in markdown and report.worst_files[0][0] in markdown
    assert str(galaxy_versions) not in markdown  # no machine-specific paths in the docs
    assert json.dumps(report.to_dict())


def test_lint_does_not_import_galaxy_model(galaxy_versions):
    code = (
        "import sys\nfrom runbooks.lint.calibration import calibrate\n"
        f"calibrate({str(galaxy_versions)!r})\n"
        "assert not [m for m in sys.modules if m.startswith('galaxy.model')], 'galaxy.model imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)


# -- squawk ---------------------------------------------------------------------------------


def test_squawk_flags_a_blocking_index_and_not_a_concurrent_one():
    plain = squawk_sql("CREATE INDEX ix_job_tool_id ON job (tool_id);")
    assert "require-concurrent-index-creation" in rules_of(plain)
    (index,) = [f for f in plain if f.rule == "require-concurrent-index-creation"]
    assert index.line == 1 and index.fix and index.severity == "warning"
    concurrent = squawk_sql("CREATE INDEX CONCURRENTLY ix_job_tool_id ON job (tool_id);")
    assert "require-concurrent-index-creation" not in rules_of(concurrent)


def test_squawk_keeps_galaxy_rules_and_drops_style_rules():
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE job ADD COLUMN attempt integer;\n"
        "ALTER TABLE job ADD CONSTRAINT job_tool_request_id_fkey\n"
        "    FOREIGN KEY (tool_request_id) REFERENCES tool_request (id);\n"
        "CREATE TABLE job_note (id serial PRIMARY KEY, note varchar(255), created timestamp);\n"
    )
    findings = squawk_sql(sql)
    rules = rules_of(findings)
    assert {"adding-foreign-key-constraint", "constraint-missing-not-valid"} <= rules
    assert not rules & {
        "prefer-bigint-over-int",
        "prefer-text-field",
        "prefer-timestamp-tz",
        "prefer-robust-stmts",
    }
    assert {f.line for f in findings if f.rule == "adding-foreign-key-constraint"} == {3}
    assert "prefer-bigint-over-int" in rules_of(squawk_sql(sql, rules=None, exclude=()))
    assert squawk_sql("   \n") == []


def test_squawk_missing_binary_is_a_usage_error(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="pip install squawk-cli"):
        squawk_sql("SELECT 1;")


def test_a_revision_nested_too_deeply_is_a_finding_and_the_rest_of_the_folder_is_linted(tmp_path):
    """Python's parser gives up on deep nesting with RecursionError: one file's finding, not the run's end."""
    header = 'from alembic import op\nrevision = "{rid}"\ndown_revision = "fac9c76612f9"\nbranch_labels = None\n'
    deep = header.format(rid="aaaa11112222") + "\n\ndef upgrade():\n    x = " + " + ".join(["1"] * 20000) + "\n"
    (tmp_path / "aaaa11112222_deep.py").write_text(deep + "\n\ndef downgrade():\n    pass\n")
    fine = header.format(rid="bbbb11112222") + '\n\ndef upgrade():\n    op.execute("SELECT 1")\n'
    (tmp_path / "bbbb11112222_fine.py").write_text(fine + '\n\ndef downgrade():\n    op.execute("SELECT 2")\n')
    result = subprocess.run(
        [sys.executable, "-m", "runbooks", "lint", "--json", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 1 and "internal error" not in result.stderr, result.stderr
    found = {Path(path).name: findings for path, findings in json.loads(result.stdout)["files"].items()}
    assert [f["rule"] for f in found["aaaa11112222_deep.py"]] == ["not-python"]
    assert "recursion" in found["aaaa11112222_deep.py"][0]["message"]
    assert found["bbbb11112222_fine.py"] == []
