"""The doctor on SQLite: each finding created for real, Galaxy's own verdict beside it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from runbooks.code.objects import created_objects
from runbooks.code.revisions import RevisionGraph
from runbooks.database.orphans import foreign_keys
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor import diagnose
from runbooks.errors import GalaxyCommandFailed
from runbooks.findings.catalogue import CODES, catalogue
from runbooks.galaxy.commands import run_dbscript
from runbooks.testing.locks import sqlite_writer
from runbooks.testing.scratch_states import (
    BEHIND_RELEASE,
    LEFTOVER,
    UNKNOWN_REVISION,
    checkout_with_two_heads,
    execute_sql,
    galaxy_verdicts,
    make_state,
    states,
)

from conftest import PROJECT, run_cli

DESIGN_CODES = [
    "database-missing", "database-empty", "no-version-table", "sqlalchemy-migrate-wrong-version",
    "sqlalchemy-migrate-needs-alembic", "revision-missing-for-branch", "database-behind", "unknown-revision",
    "multiple-current-revisions", "multiple-heads", "objects-already-exist", "foreign-key-orphans",
    "active-sessions", "blocked-by-locks", "database-locked", "upgrade-will-fail", "schema-drift",
    "schema-missing-object", "schema-differs-from-revision", "schema-left-by-galaxy",
]  # fmt: skip
BROKEN_STATE_CODES = ["invalid-version-rows", "database-damaged", "hot-journal"]  # tests/test_attack_broken_state.py
# the pre-flight (tests/test_preflight.py, replay 18877) and the database's source (tests/test_database_source.py)
PREFLIGHT_CODES = ["server-lacks-function", "role-lacks-privilege", "backup-disk-too-small"]
PREFLIGHT_CODES += ["database-not-writable", "database-disk-too-small"]  # tests/test_preflight_sqlite.py
SOURCE_CODES = ["database-configured-elsewhere"]
LEGACY_CODES = ["sqlalchemy-migrate-skipped"]  # tests/replays/test_19016_jumped_releases.py
LEFTOVER_CODES = ["schema-missing-left-by-galaxy"]  # tests/test_doctor_leftovers.py
SEARCH_PATH_CODES = ["search-path-shadows"]  # tests/test_attack_search_path.py
PAIR_CODES = ["branch-in-wrong-database", "install-tables-in-galaxy-database"]  # tests/test_install_database.py


@pytest.fixture(scope="module")
def made(tmp_path_factory, sqlite_store, graph):
    """Every scratch state, made once (copies of Galaxy-made head / 26.0 databases)."""
    folder = tmp_path_factory.mktemp("states")
    head = DatabaseUrl.parse(f"sqlite:///{sqlite_store('head')}")
    behind = DatabaseUrl.parse(f"sqlite:///{sqlite_store(BEHIND_RELEASE)}")
    dbs = {}
    for name in states(graph):
        db = DatabaseUrl.parse(f"sqlite:///{folder / name}.sqlite")
        make_state(name, db, graph, head=head, behind=behind)
        dbs[name] = db
    return dbs


@pytest.fixture(scope="module")
def verdicts(made):
    return dict(zip(made, galaxy_verdicts(list(made.values())), strict=True))


def test_catalogue_has_every_design_code_once():
    codes = [code for code, *_ in catalogue()]
    expected = DESIGN_CODES + BROKEN_STATE_CODES + PREFLIGHT_CODES + SOURCE_CODES + LEGACY_CODES + LEFTOVER_CODES
    expected += SEARCH_PATH_CODES + PAIR_CODES
    assert sorted(codes) == sorted(expected) and len(codes) == len(set(codes))
    for _code, severity, summary, fix in catalogue():
        assert severity in ("error", "warning", "info") and summary and fix


def test_the_task_page_has_a_section_per_code():
    page = (PROJECT / "docs" / "tasks" / "troubleshoot.md").read_text()
    assert "../runbooks/troubleshoot.ipynb" in page
    for code in DESIGN_CODES + BROKEN_STATE_CODES + PREFLIGHT_CODES + SOURCE_CODES + LEGACY_CODES:
        assert f"`{code}`" in page, code


def test_healthy_database_has_no_error_findings(sqlite_db, graph):
    report = diagnose(sqlite_db("head"), graph)
    assert not report.has_errors, report.text()
    assert report.findings == []
    assert {"version-table", "foreign-key-orphans", "database-locked"} <= set(report.checks)
    assert report.skipped[0]["check"] == "schema-drift"


def test_healthy_database_with_drift_check(sqlite_db, graph):
    report = diagnose(sqlite_db("head"), graph, drift=True)
    assert report.findings == [] and "schema-drift" in report.checks


def _one(report, code):
    found = [f for f in report.findings if f.code == code]
    assert found, f"{code} not in {report.codes}:\n{report.text()}"
    return found[0]


EXPECTED = {
    # state: (code, severity, words the summary must name, Galaxy's exception for it)
    "missing": ("database-missing", "error", ["missing.sqlite"], "DatabaseDoesNotExistError"),
    "empty": ("database-empty", "warning", ["empty.sqlite"], "DatabaseNotInitializedError"),
    "no-version-table": ("no-version-table", "error", ["tables"], "NoVersionTableError"),
    "migrate-wrong-version": ("sqlalchemy-migrate-wrong-version", "error", ["179", "180"],
                              "IncorrectSAMigrateVersionError"),
    "migrate-needs-alembic": ("sqlalchemy-migrate-needs-alembic", "error", ["180"], "SAMigrateError"),
    "revision-missing": ("revision-missing-for-branch", "error", ["gxy", "d4a650f47a3c"], "RevisionNotFoundError"),
    "behind": ("database-behind", "error", ["9930b68c85af", "fac9c76612f9", "26.0", "566b691307a5"],
               "OutdatedDatabaseError"),
    "unknown-revision": ("unknown-revision", "error", [UNKNOWN_REVISION, "newer Galaxy"], "RevisionNotFoundError"),
    "multiple-current": ("multiple-current-revisions", "error", ["fb16d09348db", "c716ee82337b"],
                         "OutdatedDatabaseError"),
    "objects-already-exist": ("objects-already-exist", "error", ["b75f0f4dbcd4", "page.source_invocation_id"],
                              "OutdatedDatabaseError"),
    "orphans": ("foreign-key-orphans", "warning", ["history.user_id", "galaxy_user", "2 row(s)", "id 2, 3"], "OK"),
    "drift": ("schema-drift", "warning", ["job", "local_hack"], "OK"),
}  # fmt: skip


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_each_state_gives_its_finding_and_galaxy_agrees(state, made, verdicts, graph):
    code, severity, words, galaxy_exception = EXPECTED[state]
    # objects-already-exist takes its severity from the rehearsal: rehearse that state
    report = diagnose(
        made[state], graph, drift=state == "drift", rehearse=None if code == "objects-already-exist" else False
    )
    item = _one(report, code)
    assert item.severity == severity
    for word in words:
        assert word in item.summary, (word, item.summary)
    assert item.fix
    assert verdicts[state].split(":")[0] == galaxy_exception, verdicts[state]
    assert report.has_errors == (severity == "error")
    json.dumps(report.to_json())  # the contract is JSON-serialisable


def test_galaxy_messages_are_the_exact_texts(verdicts):
    assert verdicts["no-version-table"] == (
        "NoVersionTableError: Your galaxy database has no version table; manual update is required"
    )
    assert (
        "under SQLAlchemy Migrate version control and must be upgraded to Alembic" in verdicts["migrate-needs-alembic"]
    )
    assert (
        "Step 1: Upgrade to the correct version under SQLAlchemy Migrate (version 180)"
        in verdicts["migrate-wrong-version"]
    )
    assert "has version 9930b68c85af, but this code expects version fac9c76612f9" in verdicts["behind"]


def test_objects_already_exist_and_the_rehearsal_fails_at_that_revision(made, graph):
    table, column, revision = LEFTOVER
    report = diagnose(made["objects-already-exist"], graph)
    exists = _one(report, "objects-already-exist")
    assert exists.details["objects"][0] == {
        "revision": revision, "kind": "column", "name": column, "table": table, "repairable": True
    }  # fmt: skip
    assert exists.severity == "error" and exists.details["proven"] is True
    assert f"ALTER TABLE {table} DROP COLUMN {column};" in exists.fix and "--repair" in exists.fix
    assert "with them applied reached the target" in exists.fix
    failure = _one(report, "upgrade-will-fail")
    assert failure.severity == "error"
    assert revision in failure.summary and f"duplicate column name: {column}" in failure.summary
    assert "--repair" in failure.fix
    assert "upgrade-will-fail" in report.checks


def test_behind_database_rehearses_cleanly(made, graph):
    report = diagnose(made["behind"], graph)
    assert "upgrade-will-fail" in report.checks and report.codes == ["database-behind"]


def test_no_rehearse_skips_it(made, graph):
    report = diagnose(made["behind"], graph, rehearse=False)
    assert "upgrade-will-fail" not in report.checks
    assert report.skipped[0]["check"] == "upgrade-will-fail"


def test_rehearsal_skipped_above_the_size_limit(made, graph):
    report = diagnose(made["behind"], graph, rehearsal_limit_bytes=1)
    assert "upgrade-will-fail" not in report.checks
    assert "GiB" in report.skipped[0]["why"] and "--rehearse" in report.skipped[0]["enable"]


def test_orphan_cleanup_sql_resolves_them(made, graph, tmp_path):
    from runbooks.database.scratch import copy_database

    db = DatabaseUrl.parse(f"sqlite:///{tmp_path}/orphans.sqlite")
    copy_database(made["orphans"], db)
    item = _one(diagnose(db, graph), "foreign-key-orphans")
    orphans = item.details["orphans"]
    assert orphans[0]["sample"] == [2, 3] and orphans[0]["count"] == 2
    execute_sql(db, [o["cleanup"] for o in orphans])
    assert "foreign-key-orphans" not in diagnose(db, graph).codes


def test_foreign_keys_come_from_the_database(sqlite_db):
    keys = foreign_keys(sqlite_db("head"))
    assert len(keys) > 300
    assert any(k.table == "history" and k.columns == ("user_id",) and k.parent == "galaxy_user" for k in keys)


def test_leftover_batch_table_is_an_existing_object(sqlite_db, graph):
    db = sqlite_db("head")
    execute_sql(db, ["CREATE TABLE _alembic_tmp_job (id INTEGER)"])
    item = _one(diagnose(db, graph), "objects-already-exist")
    assert "_alembic_tmp_job" in item.summary and "SELECT count(*) FROM _alembic_tmp_job;" in item.fix
    assert "DROP" not in item.fix and item.severity == "warning"  # nothing pending to prove a DROP with


def test_existing_objects_without_a_rehearsal_are_a_warning_without_drop(made, graph):
    item = _one(diagnose(made["objects-already-exist"], graph, rehearse=False), "objects-already-exist")
    assert item.severity == "warning" and "not rehearsed" in item.summary
    assert "DROP" not in item.fix and item.details["drop"] == [] and "--rehearse" in item.fix


def test_guarded_revision_objects_are_not_predicted(graph):
    guarded = {(o.name, o.guarded) for o in created_objects(graph.revisions["c0959ad462b2"])}
    assert guarded == {("tool_id", True), ("tool_version", True)}  # `if not column_exists(...)` in the file
    assert not any(o.guarded for o in created_objects(graph.revisions["b75f0f4dbcd4"]))


def test_revision_objects_reads_helpers_constants_and_fkey_args(graph):
    made = {(o.kind, o.name, o.table) for o in created_objects(graph.revisions["b75f0f4dbcd4"])}
    assert ("column", "source_invocation_id", "page") in made
    assert ("index", "ix_page_source_invocation_id", "page") in made
    assert ("constraint", "page_source_invocation_id_fkey", "page") in made


def test_database_locked_by_a_second_process(sqlite_db, graph):
    db = sqlite_db("head")
    with sqlite_writer(db) as pid:
        started = time.monotonic()
        report = diagnose(db, graph)
        assert time.monotonic() - started < 5  # answered without waiting for the lock
        item = _one(report, "database-locked")
        assert item.severity == "error" and f"pid {pid}" in item.summary and "reserved" in item.summary
    assert "database-locked" not in diagnose(db, graph).codes


def test_other_process_with_the_file_open_is_an_active_session(sqlite_db, graph):
    db = sqlite_db("head")
    code = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM job'); sys.stdin.read()"
    holder = subprocess.Popen([sys.executable, "-c", code, str(db.sqlite_path)], stdin=subprocess.PIPE)
    try:
        for _ in range(50):
            report = diagnose(db, graph)
            if "active-sessions" in report.codes:
                break
            time.sleep(0.1)
        item = _one(report, "active-sessions")
        assert f"pid {holder.pid}" in item.summary and item.severity == "warning"
    finally:
        holder.stdin.close()
        holder.wait()


def test_multiple_heads_in_a_checkout(tmp_path, sqlite_db, graph):
    env = checkout_with_two_heads(tmp_path / "galaxy", graph)
    graph = RevisionGraph.load(env)
    db = sqlite_db("head")
    report = diagnose(db, graph, env)
    item = _one(report, "multiple-heads")
    assert "f00dfeed0001" in item.summary and "fac9c76612f9" in item.summary
    assert "run_alembic.sh merge" in item.fix and "down_revision" in item.fix
    with pytest.raises(GalaxyCommandFailed) as failure:  # Galaxy's own upgrade with that checkout
        run_dbscript(db, "upgrade", env=env)
    assert "Multiple head revisions are present" in failure.value.galaxy_message


def test_cli_troubleshoot_json_and_exit_codes(made, sqlite_db):
    healthy = run_cli("troubleshoot", "--json", "--db", sqlite_db("head").secret())
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["findings"] == []
    broken = run_cli("troubleshoot", "--json", "--no-rehearse", "--db", made["multiple-current"].secret())
    assert broken.returncode == 1
    findings = json.loads(broken.stdout)["findings"]
    assert set(findings[0]) >= {"code", "severity", "summary", "fix", "details"}
    assert findings[0]["code"] == "multiple-current-revisions"
    text = run_cli("troubleshoot", "--db", made["orphans"].secret())
    assert text.returncode == 0 and "[WARNING] foreign-key-orphans" in text.stdout
    bad = run_cli("troubleshoot", "--db", "mysql://x/y")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unsupported database" in bad.stderr
    missing = run_cli("troubleshoot", "--db", made["missing"].secret())
    assert missing.returncode == 1 and "database-missing" in missing.stdout
    assert not made["missing"].sqlite_path.exists()  # reported, not created


def test_cli_does_not_import_galaxy_model(sqlite_db):
    code = (
        "import sys, runpy; sys.argv = ['runbooks', 'troubleshoot', '--db', sys.argv[1]];"
        "import runbooks.cli.main as c; rc = c.main(sys.argv[1:]);"
        "print('GALAXY' if any(m.startswith('galaxy.model') for m in sys.modules) else 'CLEAN')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, sqlite_db("head").secret()], capture_output=True, text=True, cwd=PROJECT
    )
    assert re.search(r"CLEAN\s*$", result.stdout), result.stdout + result.stderr


def test_every_code_is_documented_with_its_severity():
    severities = {code.code: code.severity for code in CODES}
    assert severities["foreign-key-orphans"] == "warning" and severities["blocked-by-locks"] == "error"


def test_the_task_page_quotes_galaxy_exactly(verdicts, made):
    """What Galaxy's startup check says, as the built page shows it (its quotes are generated).

    A missing or empty database is not here: no script of 26.1 raises those errors; what Galaxy's
    scripts really do with them is bound to experiments on the page (claims_behaviour)."""
    from docs_build.site_build.hooks import fill_generated

    page = fill_generated((PROJECT / "docs" / "tasks" / "troubleshoot.md").read_text())
    for state in ("no-version-table", "migrate-wrong-version", "migrate-needs-alembic", "revision-missing",
                  "objects-already-exist"):  # fmt: skip
        text = verdicts[state].replace(made[state].masked(), "<url>")
        assert text in page, f"{state}: Galaxy says\n{text}"


def _outputs(path) -> str:
    notebook = json.loads(path.read_text())
    return "\n".join("".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", []))


def test_troubleshoot_notebook_on_sqlite(tmp_path, sqlite_db):
    from runbooks.cli.notebook_run import run_notebook

    db = sqlite_db("25.0")  # the selection: behind, so the last section rehearses it
    started = time.monotonic()
    out = run_notebook(
        "troubleshoot", {"legacy_fix": True}, db=db, output=tmp_path / "troubleshoot.ipynb", home=tmp_path / "home"
    )
    text = _outputs(out)
    print(f"troubleshoot notebook on SQLite: {time.monotonic() - started:.1f}s")
    for code in DESIGN_CODES:
        # PostgreSQL's lock section; the baseline's classes are shown by tests/test_doctor_baseline.py
        if code not in ("active-sessions", "blocked-by-locks") and code not in DESIGN_CODES[-3:]:
            assert code in text, code
    assert "NoVersionTableError: Your galaxy database has no version table" in text
    assert "Multiple head revisions are present" in text
    assert "duplicate column name: source_invocation_id" in text
    assert "[ERROR] database-behind: gxy at c716ee82337b (release 25.0)" in text  # the selected database
    assert not list((tmp_path / "home").glob("troubleshoot-*"))  # scratch removed
