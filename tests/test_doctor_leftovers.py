"""The baseline knows what Galaxy's own upgrade paths leave (issue 12, part 1): the catalogue measured by
the upgrade matrix explains every difference of an old release's database upgraded by Galaxy, naming the
path; a column dropped by hand and a type altered by hand stay errors; a catalogued missing column is
excused only where the database's history fits the path that leaves it."""

from __future__ import annotations

import json
import shutil

import pytest

from bench.upgrade_matrix import RESULTS
from bench.upgrade_matrix.leftovers import CATALOGUE, build
from bench.upgrade_matrix.upgrade import upgrade_with_way_out
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor import diagnose
from runbooks.testing.scratch_states import execute_sql

from conftest import postgresql_from_release, sqlite_from_release

UNEXPLAINED = ("schema-missing-object", "schema-differs-from-revision", "schema-drift")
LDCA_UPDATE_TIME = "library_dataset_collection_association.update_time"


def test_the_catalogue_is_generated_from_the_matrix_results():
    made = build(json.loads(RESULTS.read_text()))
    assert json.loads(CATALOGUE.read_text()) == made, "run `python -m bench.upgrade_matrix leftovers`"
    sqlite = made["dialects"]["sqlite"]
    assert sqlite["paths"]["23.0.6"] > 50 and sqlite["paths"]["26.0.2"] < 10


@pytest.fixture(scope="module")
def upgraded_23_0_sqlite(tmp_path_factory) -> DatabaseUrl:
    """The 23.0.6 data fixture upgraded to head by Galaxy's code through the CLI, with the way out it proves."""
    db = sqlite_from_release("23.0.6.data", tmp_path_factory.mktemp("from-23.0"))
    runs = upgrade_with_way_out(db)
    assert runs[-1]["reached"], runs
    return db


def _copy(db: DatabaseUrl, tmp_path) -> DatabaseUrl:
    path = tmp_path / "copy.sqlite"
    shutil.copyfile(db.sqlite_path, path)
    return DatabaseUrl.parse(f"sqlite:///{path}")


def test_sqlite_upgraded_from_23_0_has_no_unexplained_difference(upgraded_23_0_sqlite, graph):
    report = diagnose(upgraded_23_0_sqlite, graph, drift=True, rehearse=False)
    assert not [c for c in report.codes if c in UNEXPLAINED], report.text(verbose=True)
    assert not report.has_errors, report.text()
    left = report.get("schema-left-by-galaxy")
    assert left.severity == "info" and "23.0.6" in left.summary and "on SQLite" in left.summary, left.summary
    assert "duplicate_datasets_by_uuid" in " ".join(left.details["differences"])
    needed = report.get("schema-missing-left-by-galaxy")  # Galaxy's upgrade leaves it, Galaxy's model reads it
    assert needed.severity == "warning" and LDCA_UPDATE_TIME in needed.summary, needed.summary
    assert "23.0.6" in needed.summary and "differences the" in needed.summary, needed.summary


def test_column_dropped_by_hand_after_galaxys_upgrade_is_an_error(upgraded_23_0_sqlite, graph, tmp_path):
    db = _copy(upgraded_23_0_sqlite, tmp_path)
    execute_sql(db, ["DROP INDEX IF EXISTS ix_history_archived", "ALTER TABLE history DROP COLUMN archived"])
    report = diagnose(db, graph, drift=True, rehearse=False)
    missing = report.get("schema-missing-object")
    assert missing is not None and missing.severity == "error" and report.has_errors, report.text()
    assert "history.archived" in missing.summary and LDCA_UPDATE_TIME not in missing.summary, missing.summary


def test_catalogued_column_is_not_excused_where_the_history_does_not_fit(sqlite_db, graph):
    db = sqlite_db("head")  # made at the head: no path from 23.0 behind it
    execute_sql(db, [f"ALTER TABLE {LDCA_UPDATE_TIME.replace('.', ' DROP COLUMN ')}"])
    report = diagnose(db, graph, drift=True, rehearse=False)
    missing = report.get("schema-missing-object")
    assert missing is not None and missing.severity == "error", report.text()
    assert LDCA_UPDATE_TIME in missing.summary and "not this database's history" in missing.summary, missing.summary
    assert report.get("schema-missing-left-by-galaxy") is None


def test_postgresql_upgraded_from_23_0_explained_and_altered_type_names_the_revision(pg_database, graph):
    db = postgresql_from_release("23.0.6.data", pg_database())
    assert upgrade_with_way_out(db)[-1]["reached"]
    report = diagnose(db, graph, drift=True, rehearse=False)
    assert not [c for c in report.codes if c in UNEXPLAINED], report.text(verbose=True)
    assert "on PostgreSQL" in report.get("schema-left-by-galaxy").summary
    execute_sql(db, ["ALTER TABLE tool_landing_request ALTER COLUMN tool_version TYPE TEXT"])
    report = diagnose(db, graph, drift=True, rehearse=False)
    item = report.get("schema-differs-from-revision")
    assert item is not None and item.severity == "error", report.text()
    assert "tool_landing_request.tool_version" in item.summary and "c0959ad462b2" in item.summary, item.summary


def test_type_altered_by_hand_after_galaxys_upgrade_names_the_revision(upgraded_23_0_sqlite, graph, tmp_path):
    db = _copy(upgraded_23_0_sqlite, tmp_path)
    execute_sql(  # SQLite has no ALTER COLUMN TYPE: the stored definition is edited, as a hand fix would
        db,
        [
            "PRAGMA writable_schema = ON",
            "UPDATE sqlite_master SET sql = replace(sql, 'tool_version VARCHAR(255)', 'tool_version TEXT') "
            "WHERE name = 'tool_landing_request'",
            "PRAGMA writable_schema = OFF",
        ],
    )
    report = diagnose(db, graph, drift=True, rehearse=False)
    item = report.get("schema-differs-from-revision")
    assert item is not None and item.severity == "error", report.text()
    assert "tool_landing_request.tool_version" in item.summary and "c0959ad462b2" in item.summary, item.summary


def test_missing_column_no_revision_makes_is_not_sent_to_a_backup(sqlite_db, graph):
    """Issue 22: the fix said "restore them from a backup" for a column no revision makes (a database Galaxy
    upgraded from an older release never had it). Followed as printed, the advice clears the finding."""
    import re
    import shlex

    from conftest import run_cli

    db = sqlite_db("head")
    execute_sql(db, [f"ALTER TABLE {LDCA_UPDATE_TIME.replace('.', ' DROP COLUMN ')}"])
    missing = diagnose(db, graph, drift=True, rehearse=False).get("schema-missing-object")
    assert "restore" not in missing.fix, missing.fix  # no backup ever had it: no restore advice
    (what,) = [what for what, rid in missing.details["made_by"].items() if rid is None]
    assert f"no revision this database ran makes {what}" in missing.fix, missing.fix
    kind, name, column_type = re.fullmatch(r"(\w+) (\S+) \((\w+)\)", what).groups()
    table, column = name.split(".")
    assert kind == "column" and "add each as Galaxy's model defines it (type in brackets)" in missing.fix
    execute_sql(db, [f"ALTER TABLE {table} ADD COLUMN {column} {column_type}"])
    (check,) = [c for c in re.findall(r"`([^`]+)`", missing.fix) if "troubleshoot --drift" in c]
    words = shlex.split(check)
    again = run_cli(*words[words.index("troubleshoot") :], "--json")
    codes = [f["code"] for f in json.loads(again.stdout)["findings"]]
    assert "schema-missing-object" not in codes, again.stdout
