"""The doctor's diagnosis of each version-table state, checked by running it (in-process, no
rehearsal, no Galaxy import: a few hundredths of a second each) on small SQLite files that hold only
what the state needs: an ``alembic_version`` or ``migrate_version`` table with the rows in question."""

from __future__ import annotations

import inspect
import sqlite3
import tempfile
from functools import cache
from pathlib import Path

from docs_build.checks.claim_registry import _graph, check

TSI = "d4a650f47a3c"


def _database(path: Path, rows=None, migrate=None):
    from runbooks.database.urls import DatabaseUrl

    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE galaxy_user (id INTEGER PRIMARY KEY)")
    if rows is not None:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.executemany("INSERT INTO alembic_version VALUES (?)", [(r,) for r in rows])
    if migrate is not None:
        connection.execute(
            "CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL PRIMARY KEY, "
            "repository_path TEXT, version INTEGER)"
        )
        connection.execute("INSERT INTO migrate_version VALUES ('Galaxy', 'lib/galaxy/model/migrate', ?)", (migrate,))
    connection.commit()
    connection.close()
    return DatabaseUrl.parse(f"sqlite:///{path}")


@cache
def _diagnosed() -> dict:
    """``{state: (findings, files left in the folder)}``."""
    from runbooks.database.urls import DatabaseUrl
    from runbooks.doctor.diagnosis import diagnose

    graph = _graph()
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        empty = here / "empty.sqlite"
        sqlite3.connect(empty).execute("PRAGMA user_version = 1").connection.close()
        dbs = {
            "missing": DatabaseUrl.parse(f"sqlite:///{here / 'missing.sqlite'}"),
            "empty": DatabaseUrl.parse(f"sqlite:///{empty}"),
            "revision-missing": _database(here / "a.sqlite", [TSI]),
            "unknown": _database(here / "b.sqlite", ["ffffffffffff", TSI]),
            "multiple": _database(here / "c.sqlite", ["c716ee82337b", "fb16d09348db", TSI]),
            "migrate-179": _database(here / "d.sqlite", migrate=179),
            "migrate-180": _database(here / "e.sqlite", migrate=180),
            "behind": _database(here / "f.sqlite", [graph.release_tags["25.0"], TSI]),
        }
        found = {name: diagnose(db, graph, rehearse=False).findings for name, db in dbs.items()}
        return {"findings": found, "files": sorted(p.name for p in here.iterdir())}


def _only(state: str):
    findings = _diagnosed()["findings"][state]
    assert len(findings) == 1, [(f.code, f.summary) for f in findings]
    return findings[0]


@check
def doctor_tells_missing_from_empty():
    missing, empty = _only("missing"), _only("empty")
    assert missing.code == "database-missing" and empty.code == "database-empty"
    assert "missing.sqlite" not in _diagnosed()["files"]  # nothing created


@check
def doctor_names_the_missing_branch_and_the_rows():
    finding = _only("revision-missing")
    assert finding.code == "revision-missing-for-branch"
    assert f"alembic_version has no gxy row (rows: {TSI})" in finding.summary


@check
def doctor_names_the_unknown_revision_and_its_likely_origin():
    from runbooks.doctor.checks import version_table

    finding = _only("unknown")
    assert finding.code == "unknown-revision" and "ffffffffffff" in finding.summary
    assert "likely written by a newer Galaxy release (this is the released galaxy-data code)" in finding.summary
    assert "this is a checkout: another branch's revision" in inspect.getsource(version_table)


@check
def doctor_names_the_rows_and_their_merge():
    finding = _only("multiple")
    assert finding.code == "multiple-current-revisions"
    assert finding.details == {"branch": "gxy", "rows": ["c716ee82337b", "fb16d09348db"], "merge": "c44ae5f3dcf1"}


@check
def doctor_tells_the_migrate_case():
    wrong, last = _only("migrate-179"), _only("migrate-180")
    assert wrong.code == "sqlalchemy-migrate-wrong-version" and "version 179, not 180" in wrong.summary
    assert last.code == "sqlalchemy-migrate-needs-alembic" and "version 180 (its last)" in last.summary


@check
def doctor_lists_what_is_pending():
    finding = _only("behind")
    assert finding.code == "database-behind" and "(release 25.0)" in finding.summary
    assert "23 revision(s) pending" in finding.summary and "fac9c76612f9" in finding.summary


@check
def a_guarded_revision_is_never_predicted_to_fail():
    """``c0959ad462b2`` adds its columns inside ``if not column_exists(...)``: read as guarded, and the
    prediction only looks at unguarded objects; its severity follows the rehearsal."""
    from runbooks.code.objects import created_objects
    from runbooks.doctor.checks import objects_and_orphans

    made = created_objects(_graph().revisions["c0959ad462b2"])
    assert made and all(obj.guarded for obj in made), made
    source = inspect.getsource(objects_and_orphans)
    assert "if not obj.guarded]" in source
    report = inspect.getsource(objects_and_orphans.report_existing_objects)
    for branch in ('severity, summary = "warning"', 'severity, summary = "info"', 'severity, summary = "error"'):
        assert branch in report, branch
    assert report.index("if verdict is None:") < report.index('"warning"') < report.index('"info"')


@check
def troubleshoot_runbook_reproduces_each_problem():
    """The runbook makes each state on a scratch database, shows Galaxy's verdict, runs the doctor,
    applies the fixes and shows Galaxy's verdict again, then diagnoses the selected database."""
    from runbooks.paths import PROJECT_ROOT

    notebook = (PROJECT_ROOT / "notebooks" / "troubleshoot.ipynb").read_text(encoding="utf-8")
    for step in (
        "galaxy_says = dict(zip(names, galaxy_verdicts(list(dbs.values()), env)))",
        "report = diagnose(db, graph, env, **options)",
        "galaxy_verdicts([dbs[n] for n in fixed_names], env)",
        "report = diagnose(selection.db, graph, env, drift=drift)",
    ):
        assert step in notebook, step


@check
def postgresql_orphans_skip_enforced_keys():
    """Only keys not guaranteed (NOT VALID, or triggers disabled) are counted unless --every-foreign-key."""
    from runbooks.cli.main import build_parser
    from runbooks.database import orphans

    assert "chosen = [k for k in keys if (every_key or not k.guaranteed)" in inspect.getsource(orphans._run)
    guaranteed = inspect.getsource(orphans.ForeignKey)
    assert "guaranteed" in guaranteed and "c.convalidated" in orphans._PG_KEYS and "tgenabled = 'D'" in orphans._PG_KEYS
    assert build_parser().parse_args(["troubleshoot", "--every-foreign-key"]).every_foreign_key is True


@check
def configured_elsewhere_is_a_finding():
    """A selection's warning that another database is named elsewhere becomes the
    ``database-configured-elsewhere`` finding, naming the place."""
    from runbooks.doctor.diagnosis import diagnose

    with tempfile.TemporaryDirectory() as folder:
        db = _database(Path(folder) / "galaxy.sqlite", ["fac9c76612f9", TSI])
        place = "GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION names postgresql://galaxy@db/galaxy"
        findings = diagnose(db, _graph(), rehearse=False, elsewhere=[place]).findings
    found = [f for f in findings if f.code == "database-configured-elsewhere"]
    assert len(found) == 1 and place in found[0].summary + found[0].fix + str(found[0].details), found
    from runbooks.tasks import selection

    source = inspect.getsource(selection.select)  # warned only for Galaxy's default file or the sample
    assert (
        'if selection.source in ("galaxy-default", "sample"):\n        selection.warnings = _named_elsewhere' in source
    )
    assert 'announce(f"warning: {warning}")' in source


@check
def the_fixes_the_page_repeats(head="fac9c76612f9"):
    """The doctor's fix for a database that is behind (``troubleshoot`` on the 26.0 sample), and this
    code's gxy head, the revision another code must downgrade to."""
    from docs_build.checks.claims_status import _runs

    behind = next(f for f in _runs()["troubleshoot"]["report"]["findings"] if f["code"] == "database-behind")
    assert " upgrade --rehearse " in behind["fix"] and "(Galaxy: `sh manage_db.sh upgrade`)" in behind["fix"]
    assert behind["fix"].index("upgrade --rehearse") < behind["fix"].index("`, then `")
    assert _graph().heads("gxy") == [head]


@check
def legacy_runbook_and_replay():
    """The runbook's ``legacy_fix`` parameter (off by default) runs the hand-over; the replay of #19016
    starts from Galaxy 20.09's own package."""
    from runbooks.cli.parameters import declared_parameters
    from runbooks.paths import PROJECT_ROOT

    notebook = PROJECT_ROOT / "notebooks" / "troubleshoot.ipynb"
    assert declared_parameters(notebook)["legacy_fix"] is False
    assert "if legacy_fix:" in notebook.read_text(encoding="utf-8")
    replay = (PROJECT_ROOT / "tests" / "replays" / "test_19016_jumped_releases.py").read_text(encoding="utf-8")
    assert "Galaxy 20.09's own first start (galaxy-data 20.9.1" in replay
    assert "then Galaxy failed" in replay and "take the Migrate steps first, then upgrade" in replay  # both outcomes


@check
def the_preflight_names_server_role_and_disk():
    """Printed before the lock, the backup and the change: the server version, the role, the schema and
    the backup's need against the folder's free space, then each gap with its fix."""
    from runbooks.cli.main import cmd_change
    from runbooks.tasks import preflight

    text = inspect.getsource(preflight.Preflight.text)
    for part in ("PostgreSQL {facts.version}, role {role}", "backup needs up to", "free", "fix: {item.fix}"):
        assert part in text, part
    privileges = inspect.getsource(preflight._privilege_gaps)
    assert '"privilege": "CREATE"' in privileges and "facts.not_owned" in privileges  # CREATE, table owners
    assert "needs" in inspect.getsource(preflight._function_gaps) and hasattr(preflight, "_disk_gap")
    source = inspect.getsource(cmd_change)
    assert source.index("steps.run_preflight(") < source.index("steps.check_sessions(") < source.index("take_backup")
