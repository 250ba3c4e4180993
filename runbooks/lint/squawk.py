"""Lint PostgreSQL SQL (e.g. what a revision emits) with squawk, for a live Galaxy.

squawk (``pip install squawk-cli``, binary included) knows which statements take which
locks. Its style rules (``prefer-bigint-over-int``, ``prefer-text-field``,
``prefer-timestamptz``, ...) flag most of Galaxy's schema and are excluded; the findings
are limited to ``GALAXY_RULES``, the ones that matter while Galaxy keeps running.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from runbooks.errors import UsageError
from runbooks.lint.catalogue import Finding

INSTALL_HINT = (
    "squawk is not installed: run `pip install squawk-cli` (it is in requirements.txt), or put `squawk` on PATH"
)

# Rules that matter for a live Galaxy: locks that stall job handlers and web workers,
# changes that fail on tables with rows, and changes that break running (older) code.
GALAXY_RULES: tuple[str, ...] = (
    "require-concurrent-index-creation",
    "require-concurrent-index-deletion",
    "ban-concurrent-index-creation-in-transaction",
    "adding-required-field",
    "adding-not-nullable-field",
    "adding-foreign-key-constraint",
    "constraint-missing-not-valid",
    "disallowed-unique-constraint",
    "changing-column-type",
    "adding-serial-primary-key-field",
    "adding-field-with-default",
    "renaming-column",
    "renaming-table",
    "ban-drop-column",
    "ban-drop-table",
    "ban-drop-not-null",
    "ban-drop-database",
    "ban-truncate-cascade",
    "require-lock-timeout",
    "transaction-nesting",
    "ban-uncommitted-transaction",
    "identifier-too-long",
    "syntax-error",
)

# Passed to squawk's --exclude. Style rules that flag most of Galaxy's schema, plus:
# prefer-robust-stmts (Galaxy makes reruns safe with the helpers' --repair checks, not
# IF NOT EXISTS) and require-statement-timeout (a timeout would abort a long, legitimate
# migration step; the lock timeout is what protects a live server and stays).
EXCLUDED_RULES: tuple[str, ...] = (
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    "ban-char-field",
    "prefer-robust-stmts",
    "require-statement-timeout",
)

SEVERITIES = {"error": "error", "warning": "warning"}


def find_squawk() -> str:
    """The squawk binary next to this Python (the venv's bin/) or on PATH."""
    here = Path(sys.executable).parent
    for name in ("squawk", "squawk.exe"):
        candidate = here / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("squawk")
    if found:
        return found
    raise UsageError(INSTALL_HINT)


def squawk_sql(
    sql_text: str,
    *,
    rules: Iterable[str] | None = GALAXY_RULES,
    exclude: Iterable[str] = EXCLUDED_RULES,
    pg_version: str | None = None,
    assume_in_transaction: bool = False,
    executable: str | None = None,
) -> list[Finding]:
    """squawk's findings for ``sql_text`` (1-based lines), limited to ``rules`` (None: all).

    ``assume_in_transaction``: the SQL will run inside a transaction it does not show
    (Alembic online mode on PostgreSQL); the output of ``upgrade --sql`` has its own BEGIN.
    """
    if not sql_text.strip():
        return []
    command = [
        executable or find_squawk(),
        "--reporter",
        "json",
        "--stdin-filepath",
        "migration.sql",
    ]
    excluded = ",".join(exclude)
    if excluded:
        command.append(f"--exclude={excluded}")
    if pg_version:
        command.append(f"--pg-version={pg_version}")
    if assume_in_transaction:
        command.append("--assume-in-transaction")
    try:
        completed = subprocess.run(
            command,
            check=False,
            input=sql_text,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except FileNotFoundError:
        raise UsageError(INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise UsageError("squawk did not answer within 120 s: lint a smaller piece of SQL") from None
    try:
        reports = json.loads(completed.stdout) if completed.stdout.strip() else None
    except json.JSONDecodeError:
        reports = None
    if completed.returncode not in (0, 1) or not isinstance(reports, list):
        detail = (completed.stderr.strip() or completed.stdout.strip() or "no output").splitlines()[0]
        raise UsageError(f"squawk failed (exit {completed.returncode}): {detail}")
    wanted = None if rules is None else set(rules)
    findings = []
    for report in reports:
        rule = report.get("rule_name") or "squawk"
        if wanted is not None and rule not in wanted:
            continue
        findings.append(
            Finding(
                rule=rule,
                line=int(report.get("line") or 0) + 1,
                message=report.get("message") or "",
                fix=report.get("help") or f"see https://squawkhq.com/docs/{rule}",
                severity=SEVERITIES.get(str(report.get("level", "")).lower(), "warning"),
            )
        )
    return findings
