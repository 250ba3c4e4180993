"""The adversarial suite's shared parts (tests/test_attack_*.py).

Each attack is declared with ``attack(AREA, WHAT, OUTCOME)`` as a decorator (or as a
``pytest.param`` id via ``attack(...).param(...)``). The guide's attack table is generated from
these declarations by reading the test files with ``ast`` (``docs_build/generated/attacks.py``), so the
table lists exactly the attacks the suite runs; each test then proves its outcome.

Every attack asserts the same things, through the helpers here: the exit code, one clear line
(no traceback, no ``internal error``), no password in any output, and that the database is
byte-identical (SQLite) or dump-identical (PostgreSQL) afterwards when the operation failed or
was refused.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbooks.database.urls import DatabaseUrl

AREAS = (
    "restore",
    "backup",
    "run",
    "concurrency",
    "signals",
    "quoting",
    "special-files",
    "broken-state",
    "create",
    "other",
)
PASSWORD = "s3cr3t-Pa55"
ROWS_DIGEST = """SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM "{table}" t"""


@dataclass(frozen=True)
class Attack:
    area: str
    what: str
    outcome: str

    def __call__(self, test):
        assert self.area in AREAS, self.area
        test.attack = self
        return pytest.mark.attack(test)

    def param(self, *values):
        return pytest.param(*values, id=self.what, marks=pytest.mark.attack)


def attack(area: str, what: str, outcome: str) -> Attack:
    return Attack(area, what, outcome)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_refused(result: subprocess.CompletedProcess, *words: str, code: int = 2) -> str:
    """Exit ``code`` with one clear line on stderr containing ``words``; returns that line."""
    lines = error_lines(result)
    assert result.returncode == code, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert len(lines) == 1, result.stderr
    assert_no_crash(result)
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def assert_no_crash(result: subprocess.CompletedProcess) -> None:
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text[-3000:]
    assert "internal error" not in text, text[-3000:]
    assert PASSWORD not in text


def fingerprint(db: DatabaseUrl) -> str:
    """SQLite: the bytes of the file and its journals; PostgreSQL: schema and every row, ordered."""
    if db.is_sqlite:
        digest = hashlib.sha256()
        for suffix in ("", "-wal", "-journal"):
            path = Path(f"{db.sqlite_path}{suffix}")
            digest.update(path.read_bytes() if path.exists() else b"<absent>")
        return digest.hexdigest()
    return _postgresql_fingerprint(db)


def _postgresql_fingerprint(db: DatabaseUrl) -> str:
    from runbooks.database.connections import connect_postgresql

    digest = hashlib.sha256()
    connection = connect_postgresql(db)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY 1, 2"
            )
            rows = cursor.fetchall()
            digest.update(repr(rows).encode())
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
            digest.update(repr(cursor.fetchall()).encode())
            for table in sorted({row[0] for row in rows}):
                cursor.execute(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
                )
                digest.update(f"{table}={cursor.fetchone()[0]}".encode())
    finally:
        connection.close()
    return digest.hexdigest()
