"""Rows of ``alembic_version`` that are not revision ids, each with the exact SQL that fixes it.

Alembic creates the table as ``version_num VARCHAR(32) NOT NULL`` primary key, so a NULL,
a duplicate, an over-long value or bytes that are not text only appear when the table was
recreated or edited by hand. Such a row is never guessed at: it is named (printable, ASCII
only, so it cannot drive the terminal) and the statement that deletes exactly that row is given;
a revision id with blanks around it (an edit by hand) is trimmed instead, so the database keeps its
revision (deleting it would leave the branch without one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LENGTH = 32  # alembic_version.version_num is VARCHAR(32)
_REVISION_ID = re.compile(r"^[A-Za-z0-9_]+$")
_SHOWN = 40


@dataclass(frozen=True)
class RawRow:
    """One row as stored: its SQL type (``null``, ``text``, ``blob``, ...) and its bytes."""

    kind: str
    data: bytes | None

    @property
    def text(self) -> str | None:
        if self.kind == "null" or self.data is None:
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True)
class BadRow:
    shown: str
    problem: str
    fix_sql: str
    action: str = "delete"  # or "trim"

    def describe(self) -> str:
        return f"{self.shown} ({self.problem})"

    def to_json(self) -> dict:
        deleting = self.action == "delete"
        return {
            "row": self.shown,
            "problem": self.problem,
            "action": self.action,
            "fix": self.fix_sql,
            "delete": self.fix_sql if deleting else None,
        }


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def shown(raw: RawRow) -> str:
    if raw.kind == "null":
        return "NULL"
    text = raw.text
    if text is None:
        return "x'" + (raw.data or b"").hex() + "'"
    short = text if len(text) <= _SHOWN else text[:_SHOWN] + f"… ({len(text)} characters)"
    return ascii(short) if not short.isascii() or not short.isprintable() else repr(short)


def _match(raw: RawRow, dialect: str) -> str:
    """A WHERE condition that matches exactly this value."""
    if raw.kind == "null":
        return "version_num IS NULL"
    text = raw.text
    if raw.kind == "text" and text is not None and text.isascii() and text.isprintable():
        return f"version_num = {sql_literal(text)}"
    data = (raw.data or b"").hex()
    if dialect == "sqlite":
        return f"hex(version_num) = '{data.upper()}'"
    return f"encode(convert_to(version_num::text, 'UTF8'), 'hex') = '{data}'"


def _problem(raw: RawRow) -> str | None:
    if raw.kind == "null":
        return "no value"
    if raw.kind == "blob":
        return "bytes, not text"
    text = raw.text
    if text is None:
        return "not valid UTF-8"
    if len(text) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if _padded(text):
        return "a revision id with blanks around it"
    if not _REVISION_ID.match(text):
        return "characters no revision id has (only letters, digits and _)"
    return None


def _padded(text: str | None) -> bool:
    return text is not None and text != text.strip() and bool(_REVISION_ID.match(text.strip()))


def classify(rows: list[RawRow], dialect: str) -> tuple[tuple[str, ...], tuple[BadRow, ...]]:
    """The revision ids (each once) and the rows that are not, with the SQL deleting each."""
    good: list[str] = []
    bad: list[BadRow] = []
    row_id = "rowid" if dialect == "sqlite" else "ctid"
    texts = [raw.text for raw in rows]
    for raw in rows:
        problem = _problem(raw)
        if problem and _padded(raw.text) and raw.text.strip() not in texts:  # keep the revision: trim it
            trimmed = sql_literal(raw.text.strip())
            trim = f"UPDATE alembic_version SET version_num = {trimmed} WHERE {_match(raw, dialect)};"
            bad.append(BadRow(shown(raw), problem, trim, "trim"))
        elif problem:
            bad.append(BadRow(shown(raw), problem, f"DELETE FROM alembic_version WHERE {_match(raw, dialect)};"))
        elif raw.text in good:
            if all(b.shown != shown(raw) for b in bad):
                condition = _match(raw, dialect)
                sql = (
                    f"DELETE FROM alembic_version WHERE {condition} AND {row_id} <> "
                    f"(SELECT min({row_id}) FROM alembic_version WHERE {condition});"
                )
                bad.append(BadRow(shown(raw), "a duplicate", sql))
        else:
            good.append(raw.text)
    return tuple(good), tuple(bad)
