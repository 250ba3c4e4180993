"""Claims of the troubleshooting page about the doctor itself: its report, exit codes and what it
runs (from ``troubleshoot`` run in its own process on a copy of the 26.0 sample and on a server that
does not answer, shared with the status checks), and what its checks read (from their code)."""

from __future__ import annotations

import inspect

from docs_build.checks.claim_registry import check
from docs_build.checks.claims_status import _runs


@check
def doctor_findings_and_json():
    """Each finding: code, severity (error/warning/info), summary, fix, details; ``--json`` holds the
    findings, the checks that ran and the ones skipped (why, how to turn on)."""
    from runbooks.findings import report
    from runbooks.findings.catalogue import BY_CODE

    found = _runs()["troubleshoot"]["report"]
    assert {"findings", "checks", "skipped"} <= set(found)
    finding = found["findings"][0]
    assert list(finding) == ["code", "severity", "summary", "fix", "details"] and finding["code"] in BY_CODE
    assert set(report.SEVERITIES) == {"error", "warning", "info"}
    assert all(set(item) == {"check", "why", "enable"} for item in found["skipped"])


@check
def doctor_exit_codes():
    """1 with an error finding (the sample is behind), 2 when it could not run (no server answers)."""
    found = _runs()
    assert found["troubleshoot"]["rc"] == 1
    assert any(f["severity"] == "error" for f in found["troubleshoot"]["report"]["findings"])
    assert found["troubleshoot_unreachable"]["rc"] == 2
    from runbooks.cli.main import cmd_troubleshoot

    assert "return 1 if report.has_errors else 0" in inspect.getsource(cmd_troubleshoot)


@check
def doctor_rehearses_only_when_it_may():
    """Behind only; skipped with locks held, over 2 GiB unless --rehearse, never with --no-rehearse;
    the drift only with --drift (it imports the model)."""
    from runbooks.doctor import diagnosis
    from runbooks.doctor.checks import upgrade_rehearsal

    assert diagnosis.REHEARSAL_LIMIT_BYTES == 2 * 1024**3
    source = inspect.getsource(upgrade_rehearsal._may_rehearse)
    for words in ("if rehearse is False:", "if ex.busy:", "if rehearse is None and size > limit:"):
        assert words in source, words
    skipped = {item["check"]: item for item in _runs()["troubleshoot"]["report"]["skipped"]}
    assert skipped["upgrade-will-fail"]["why"] == "rehearsal turned off"
    assert skipped["schema-drift"]["enable"] == "add --drift to compare the schema"
    assert "imports Galaxy's model" in skipped["schema-drift"]["why"]


@check
def doctor_never_ends_a_session():
    """It prints ``SELECT pg_terminate_backend(PID);``; no code of the tool outside its tests runs it."""
    from runbooks.database import sessions

    assert sessions.terminate_statement(4242) == "SELECT pg_terminate_backend(4242);"
    from runbooks.paths import PROJECT_ROOT

    runs = [  # a line of the tool (its test helpers aside) that executes a statement ending a session
        f"{path.relative_to(PROJECT_ROOT)}: {line.strip()}"
        for path in (PROJECT_ROOT / "runbooks").rglob("*.py")
        if "testing" not in path.parts
        for line in path.read_text(encoding="utf-8").splitlines()
        if "execute(" in line and "terminate" in line
    ]
    assert runs == [], runs


@check
def scratch_leftovers_are_named_and_removed():
    """Scratch copies are named ``runbooks-scratch-HOST_PID-…`` / ``rb_scratch_HOST_PID_…``; the doctor
    reports those whose pid has ended; a rehearsal removes them first."""
    from runbooks.database import leftovers
    from runbooks.tasks import rehearsal

    assert leftovers.SQLITE_PREFIX == "runbooks-scratch-" and leftovers.PG_PREFIX == "rb_scratch"
    assert "remove_leftovers(db)" in inspect.getsource(rehearsal.rehearse)
    assert "os.kill(" in inspect.getsource(leftovers) or "pid_exists" in inspect.getsource(leftovers)


@check
def foreign_keys_from_the_database_itself():
    from runbooks.database import orphans

    source = inspect.getsource(orphans)
    assert "pragma_foreign_key_list(m.name)" in source and "pg_constraint" in source
    assert "sample: tuple" in source and "convalidated" in source


@check
def postgresql_sessions_are_described():
    from runbooks.database import sessions

    source = inspect.getsource(sessions)
    assert "pg_stat_activity" in source and "pg_blocking_pids(a.pid)" in source and "pg_locks" in source


@check
def bad_version_rows_are_named_in_ascii_with_their_delete():
    from runbooks.database.version_rows import RawRow, classify

    rows = [RawRow("text", b"9930b68c85af"), RawRow("text", b"\x1b[31mx")]
    good, bad = classify(rows, "sqlite")
    assert good == ("9930b68c85af",) and len(bad) == 1
    assert bad[0].shown.isascii() and "\x1b" not in bad[0].shown and "\\x1b" in bad[0].shown, bad[0]
    assert bad[0].fix_sql.startswith("DELETE FROM alembic_version WHERE "), bad[0]


@check
def preflight_gaps_refuse_the_change():
    from runbooks.cli.main import build_parser
    from runbooks.errors import Refused
    from runbooks.tasks import change

    source = inspect.getsource(change.refuse_gaps)
    assert "if check is None or not check.has_gaps or ignore:" in source and "raise Refused(" in source
    assert Refused.exit_code == 1
    assert build_parser().parse_args(["downgrade", "base", "--ignore-preflight"]).ignore_preflight is True


@check
def every_command_names_its_database_and_why():
    found = _runs()
    assert (
        "Database:    " in found["missing"]["stdout"] and "Chosen by:   given with --db" in found["missing"]["stdout"]
    )
    assert found["sample"]["report"]["database_source"]["from"] == "given with --db"


_WRITER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("writing", flush=True)
sys.stdin.read()
"""


@check
def a_writers_exclusive_lock_is_named():
    """Another process inside ``BEGIN EXCLUSIVE`` on the file: refused, naming its pid and command line
    (the special files: see ``reading_never_writes``)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from docs_build.checks.claims_tool import _sqlite_db
    from runbooks.database.connections import refuse_unreadable_sqlite
    from runbooks.errors import Refused

    with tempfile.TemporaryDirectory() as folder:
        db = _sqlite_db(Path(folder))
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(db.sqlite_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout.readline().strip() == "writing"
            try:
                refuse_unreadable_sqlite(db.sqlite_path, 0.2)
                raise AssertionError("read while a writer held the file")
            except Refused as refusal:
                assert f"is locked by pid {writer.pid} (" in str(refusal) and "EXCLUSIVE" in str(refusal), refusal
                assert sys.executable in str(refusal), refusal  # its command line
        finally:
            writer.kill()
            writer.wait()


@check
def doctor_default_checks_import_no_galaxy():
    """``troubleshoot --no-rehearse`` on the 26.0 sample: no Galaxy module imported; the checks that ran
    include the version table, the heads, sessions and locks, orphans and the pending objects."""
    import re

    found = _runs()["troubleshoot"]
    galaxy = [name for name in found["imported"] if re.match(r"galaxy(\.|$)", name)]
    assert found["imported"] and galaxy == [], galaxy[:5]
    ran = set(found["report"]["checks"])
    assert {"version-table", "multiple-heads", "active-sessions", "foreign-key-orphans", "objects-already-exist"} <= ran


@check
def doctor_rehearses_and_drifts_only_where_it_means_something():
    """The rehearsal (the tool's ``rehearse``: Galaxy's upgrade in its worker, on a copy) only for a
    database that is behind; the drift only up to date, without a version table or without its gxy row."""
    from runbooks.doctor import checks
    from runbooks.doctor.checks import schema_drift, upgrade_rehearsal

    assert 'if ex.status.state == "behind" and "gxy" in ex.only:' in inspect.getsource(checks)
    assert "verdict = Verdict(run_rehearsal(ex.db, plan, ex.env))" in inspect.getsource(upgrade_rehearsal)
    assert "cause = explain_failure(outcome.errors" in inspect.getsource(upgrade_rehearsal)  # cause and fix
    assert 'if state not in ("up-to-date", "no-version-table", "revision-missing"):' in inspect.getsource(schema_drift)


@check
def doctor_benchmark_budget():
    from runbooks.paths import PROJECT_ROOT

    bench = (PROJECT_ROOT / "bench" / "doctor_vs_galaxy.py").read_text(encoding="utf-8")
    assert 'galaxy("dbversion", url)' in bench and "budget: at most 1.5" in bench


@check
def drift_codes_and_severities():
    """The drift's codes, with the severities the catalogue gives them, and the path or revision they name."""
    from runbooks.doctor.checks import schema_drift
    from runbooks.findings.catalogue import BY_CODE

    expected = {
        "schema-drift": "warning",
        "schema-missing-object": "error",
        "schema-differs-from-revision": "error",
        "schema-left-by-galaxy": "info",
    }
    assert {code: BY_CODE[code].severity for code in expected} == expected
    assert "the revision is named" in BY_CODE["schema-differs-from-revision"].summary
    assert "the upgrade path is named" in BY_CODE["schema-left-by-galaxy"].summary
    assert '"schema-left-by-galaxy"' in inspect.getsource(schema_drift)
    assert 'severity="warning" if ex.status.state == "up-to-date" else "info"' in inspect.getsource(schema_drift)
