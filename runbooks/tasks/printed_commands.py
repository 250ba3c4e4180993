"""Commands the tool prints for a user to paste: shell-quoted, naming the same database.

Every printed ``galaxy-migrations …`` (in a clone ``python -m runbooks …``) line (restore with, Next, a finding's fix, a
failure's way out) is built by ``command_line``: each argument goes through
``shlex.quote`` and the line repeats the database selection, so pasting it into a shell
runs nothing but that command and acts on the database the user was looking at.
A password is never printed: a URL with one is named as ``--db '$RUNBOOK_DB_URL'``, single-quoted
so the shell passes the name and the CLI reads the variable itself (an expanded URL would put
the password into the process's argv, which every user of the machine can read).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runbooks.database.urls import DatabaseUrl
from runbooks.errors import SeeCommand
from runbooks.paths import program
from runbooks.settings import DB_URL_ENV, INSTALL_DB_URL_ENV

ENV_REFERENCE = f"${DB_URL_ENV}"  # as a --db value: "read the URL from the environment"
CONTROL = {chr(code) for code in range(32)} | {chr(127)}


def shell_word(text: str) -> str:
    """One shell word for ``text``; control characters (a newline in a path) as bash's ``$'…'``.

    So a printed command stays on one line, whichever report indents or splits its lines.
    """
    if not CONTROL & set(text):
        return shlex.quote(text)
    escaped = "".join(
        f"\\x{ord(char):02x}" if char in CONTROL else "\\" + char if char in "\\'" else char for char in text
    )
    return f"$'{escaped}'"


@dataclass(frozen=True)
class DatabaseArgs:
    """The options a printed command repeats to select the same database and Galaxy code."""

    db: DatabaseUrl | None = None  # None: no --db (the embedded sample, or the checkout's configured one)
    galaxy_root: Path | None = None
    from_environment: bool = False  # the URL came from $RUNBOOK_DB_URL
    install_db: DatabaseUrl | None = None  # a separate tool shed install database named by the user

    def words(self) -> list[str]:
        words = [] if self.db is None else ["--db", _url_word(self.db)]
        if self.install_db is not None:
            words += ["--install-db", _url_word(self.install_db, f"${INSTALL_DB_URL_ENV}")]
        if self.galaxy_root is not None:
            words += ["--galaxy-root", shell_word(str(Path(self.galaxy_root).resolve()))]
        return words

    @property
    def uses_environment(self) -> bool:
        return self.db is not None and bool(self.db.password)

    def note(self) -> str:
        """What to do before pasting, when the commands read the password from the environment."""
        if not self.uses_environment or self.from_environment:
            return ""
        return (
            f"the commands above read the password from ${DB_URL_ENV}: first `export {DB_URL_ENV}=URL` "
            "with the URL you gave, password included"
        )


def _url_word(db: DatabaseUrl, reference: str = ENV_REFERENCE) -> str:
    if db.password:
        return shlex.quote(reference)
    if db.is_sqlite:  # absolute, so the line works from any folder
        return shell_word(f"sqlite:///{db.sqlite_path}")
    return shell_word(db.secret())


def for_url(db: DatabaseUrl) -> DatabaseArgs:
    """When only the URL is known: ``--db`` names it."""
    return DatabaseArgs(db)


def command_line(task: str, *args: str | Path, database: DatabaseArgs | None = None) -> str:
    """``PROGRAM TASK ARGS… [--db …] [--galaxy-root …]``, every argument quoted; PROGRAM as the user invoked it
    (``galaxy-migrations`` installed, ``python -m runbooks`` in a clone: ``paths.program``)."""
    words = [program(), task, *(shell_word(str(arg)) for arg in args)]
    return " ".join(words + (database.words() if database else []))


def quoted_path(path: str | Path) -> str:
    """A path as a shell word, for lines that show a file a user may copy."""
    return shell_word(str(path))


@contextmanager
def see(database: DatabaseArgs | None) -> Iterator[None]:
    """A ``SeeCommand`` raised inside names its command whole: with ``database``'s --db/--galaxy-root."""
    try:
        yield
    except SeeCommand as error:
        raise error.completed(command_line(error.task, database=database)) from None
