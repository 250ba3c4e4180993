"""Mutation check of the key promises: break each one in a clean copy, and the tests must notice.

Each mutant removes one promise the README and the design make (the read-back, restore's
checks, the migration lock, ...) by a small edit of the library, in a copy of the committed
project (``git archive HEAD``; the working tree and its other edits are never touched). The
tests named for it then run in that copy (``-n0``); the mutant is *killed* when they fail,
*survived* when they pass (a missing test: write it). The copy is first run unmutated with every
named test, so a failure that is not the mutant's is reported as such, not counted as a kill.

Run:  .venv/bin/python bench/mutants.py [--only NAME ...] [--list]
Writes bench/results/mutants.json (name, promise, tests, status, seconds); the Contributing page
shows it (docs_build/generated/mutants.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results" / "mutants.json"
TIMEOUT_S = 900


@dataclass(frozen=True)
class Mutant:
    name: str
    promise: str
    file: str
    edits: tuple[tuple[str, str], ...]  # (exact text, its replacement); each text occurs once in the file
    tests: tuple[str, ...]  # pytest node ids
    select: str = ""  # a -k expression, when only some parameters of those tests apply


MUTANTS = (
    Mutant(
        "read-back-removed",
        "Done only when alembic_version, read back, is the target",
        "runbooks/tasks/migrate.py",
        (("reached = set(rows) == plan.expected and not errors", "reached = not errors"),),
        ("tests/test_readback.py",),
    ),
    Mutant(
        "restore-takes-any-sqlite-file",
        "restore refuses a file that is not a Galaxy database (without --force)",
        "runbooks/database/restore.py",
        (("if snapshot.alembic_rows or snapshot.migrate_version is not None:", "if True:"),),
        ("tests/test_attack_restore.py::test_sqlite_restore_refuses",),
        "galaxy",
    ),
    Mutant(
        "restore-ignores-the-manifest",
        "restore checks the backup whole and of this database (its manifest)",
        "runbooks/database/restore.py",
        (("    check_against(manifest, path, db, force)\n", "    pass\n"),),
        (
            "tests/test_attack_restore.py::test_backup_of_another_sqlite_database_is_refused",
            "tests/test_attack_restore.py::test_sqlite_restore_refuses",
        ),
        "truncated or another",
    ),
    Mutant(
        "sqlite-lock-shared",
        "one migration at a time on SQLite: a second one is refused at once",
        "runbooks/database/migration_lock.py",
        (
            ("fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)"),
            (
                "fcntl.flock(file_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)",
                "fcntl.flock(file_fd, fcntl.LOCK_SH | fcntl.LOCK_NB)",
            ),
        ),
        (
            "tests/test_attack_concurrency.py::test_second_upgrade_is_refused",
            "tests/test_attack_concurrency.py::test_downgrade_while_a_restore_runs",
        ),
        "sqlite or restore",
    ),
    Mutant(
        "postgresql-lock-always-granted",
        "one migration at a time on PostgreSQL: a second one is refused at once",
        "runbooks/database/advisory_lock.py",
        (("            if taken and holder is None:\n", "            if True:\n"),),
        ("tests/test_attack_concurrency.py::test_second_upgrade_is_refused",),
        "postgresql",
    ),
    Mutant(
        "backup-leaves-partial-files",
        "a failed or interrupted backup leaves no partial or unmanifested file",
        "runbooks/database/backup.py",
        (("for path in (partial, *journals, partial_manifest, final, manifest_path(final)):", "for path in ():"),),
        (
            "tests/test_attack_backup.py::test_interrupted_backup_leaves_nothing",
            "tests/test_attack_backup.py::test_backup_onto_a_full_disk",
        ),
        "interrupted or sqlite",
    ),
    Mutant(
        "url-password-shown",
        "a password in the URL never appears in output",
        "runbooks/database/urls.py",
        (("render_as_string(hide_password=True)", "render_as_string(hide_password=False)"),),
        ("tests/test_postgresql.py::test_sample_at_release_on_postgresql",),
    ),
    Mutant(
        "parameters-untyped",
        "run -p values are typed from the notebook's defaults (-p confirm False is false)",
        "runbooks/cli/parameters.py",
        (("            return word in TRUE_WORDS\n", "            return text\n"),),
        (
            "tests/test_attack_run.py::test_false_words_are_false",
            "tests/test_attack_run.py::test_confirm_false_applies_nothing",
        ),
    ),
    Mutant(
        "preflight-ignores-sessions",
        "pre-flight: a session that would block the change stops it, named",
        "runbooks/tasks/change.py",
        (("if change.activity.blockers and not ignore_sessions:", "if False:"),),
        ("tests/test_migrate.py::test_sqlite_lock_held_by_another_process_is_refused",),
    ),
    Mutant(
        "leftovers-of-living-runs-removed",
        "the orphan guard: only scratch copies whose owner has ended are removed",
        "runbooks/database/leftovers.py",
        (("        return None\n    return None\n", "        return pid\n    return pid\n"),),  # a living owner too
        ("tests/test_leftovers.py",),
    ),
    Mutant(
        "reading-opens-read-write",
        "reading never writes (status opens SQLite read-only)",
        "runbooks/database/connections.py",
        (('?mode=ro", uri=True, timeout=CONNECT_TIMEOUT_S)', '?mode=rw", uri=True, timeout=CONNECT_TIMEOUT_S)'),),
        (
            "tests/test_attack_broken_state.py::test_hot_journal",
            "tests/test_status.py::test_reading_never_writes",
            "tests/test_reading_wal.py",
        ),
    ),
    Mutant(
        "worker-outlives-the-cli",
        "Galaxy's worker dies with the CLI that started it, however it ends",
        "runbooks/lifetime.py",
        (("    prctl = prctl or _prctl()\n", "    return\n"),),
        ("tests/test_attack_signals.py::test_worker_server_leaves_when_its_parent_is_not_there",),
    ),
    Mutant(
        "rehearsal-on-the-real-database",
        "a rehearsal runs on a throwaway copy, never on the database",
        "runbooks/tasks/rehearsal.py",
        (("apply(scratch.db, plan, record_sql=True", "apply(db, plan, record_sql=True"),),
        ("tests/test_migrate.py::test_rehearsal_records_sql_and_leaves_the_database_alone",),
    ),
    Mutant(
        "printed-commands-unquoted",
        "every command the tool prints is shell-quoted",
        "runbooks/tasks/printed_commands.py",
        (("        return shlex.quote(text)\n", "        return text\n"),),
        ("tests/test_attack_quoting.py::test_every_argument_survives_bash",),
    ),
    Mutant(
        "lock-per-url",
        "one PostgreSQL migration lock per database, whatever URL or role reaches it",
        "runbooks/database/advisory_lock.py",
        (("            if taken and holder is None:\n", "            if taken:\n"),),
        ("tests/test_attack_lock_identity.py",),
    ),
)


def clean_copy(folder: Path) -> Path:
    """The committed project (HEAD) in ``folder``: nobody's uncommitted edits, nothing built."""
    archive = subprocess.run(["git", "-C", str(PROJECT), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def pytest_command(tests: tuple[str, ...], select: str) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider", "-x", *tests]
    return command + (["-k", select] if select else [])


def run_tests(copy: Path, tests: tuple[str, ...], select: str) -> tuple[int | None, float, str]:
    """pytest's exit status in ``copy`` (None at the timeout), the seconds, and its last lines."""
    env = {**os.environ, "PYTHONPATH": str(copy)}  # the copy's runbooks, in notebook kernels and workers too
    started = time.monotonic()
    try:
        result = subprocess.run(
            pytest_command(tests, select), cwd=copy, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - started, "timed out"
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-3:])
    return result.returncode, time.monotonic() - started, tail


def apply_edits(path: Path, edits) -> str | None:
    """Apply ``edits`` to ``path``; the original text, or None when an edit's text is not there once."""
    original = path.read_text()
    text = original
    for old, new in edits:
        if text.count(old) != 1:
            return None
        text = text.replace(old, new)
    path.write_text(text)
    return original


def status_of(code: int | None) -> str:
    if code is None:
        return "killed (timeout)"
    return {0: "survived", 1: "killed"}.get(code, f"error (pytest exit {code})")


def check(mutant: Mutant, copy: Path) -> dict:
    path = copy / mutant.file
    original = apply_edits(path, mutant.edits)
    record = {"name": mutant.name, "promise": mutant.promise, "file": mutant.file, "tests": list(mutant.tests)}
    record["commit"] = subprocess.run(
        ["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if mutant.select:
        record["select"] = mutant.select
    if original is None:
        print(f"{mutant.name}: stale, its text is no longer in {mutant.file}", flush=True)
        return record | {"status": "stale (the code it edits changed)", "seconds": 0.0}
    try:
        code, seconds, tail = run_tests(copy, mutant.tests, mutant.select)
    finally:
        path.write_text(original)
    print(f"{mutant.name}: {status_of(code)} in {seconds:.0f}s\n  {tail.replace(chr(10), chr(10) + '  ')}", flush=True)
    return record | {"status": status_of(code), "seconds": round(seconds, 1)}


def baseline(copy: Path, chosen) -> None:
    """Every named test passes in the unmutated copy, else a kill would prove nothing."""
    for mutant in chosen:
        code, seconds, tail = run_tests(copy, mutant.tests, mutant.select)
        if code != 0:
            raise SystemExit(f"{mutant.name}: its tests fail without the mutant (exit {code}):\n{tail}")
        print(f"{mutant.name}: baseline passes in {seconds:.0f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these mutants (results merged into the file)")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of the named tests")
    args = parser.parse_args()
    if args.list:
        for mutant in MUTANTS:
            print(f"{mutant.name}: {mutant.promise}\n  {mutant.file}; {' '.join(mutant.tests)}")
        return
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.only and len(chosen) != len(args.only):
        raise SystemExit(f"unknown mutant: one of {', '.join(m.name for m in MUTANTS)}")
    with tempfile.TemporaryDirectory(prefix="runbooks-mutants-") as folder:
        copy = clean_copy(Path(folder))
        if not args.no_baseline:
            baseline(copy, chosen)
        results = [check(mutant, copy) for mutant in chosen]
    write_results(results)


def write_results(results: list[dict]) -> None:
    commit = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    previous = json.loads(RESULTS.read_text())["mutants"] if RESULTS.exists() else []
    by_name = {item["name"]: item for item in previous} | {item["name"]: item for item in results}
    order = [m.name for m in MUTANTS]
    merged = [by_name[name] for name in order if name in by_name]
    report = {"commit": commit.stdout.strip(), "mutants": merged}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    killed = sum(item["status"].startswith("killed") for item in merged)
    print(f"{killed} of {len(merged)} mutants killed; written to {RESULTS.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
