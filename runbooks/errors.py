"""Errors the CLI turns into one clear line and an exit code: every one that carries an exit code."""


class RunbookError(Exception):
    """A task could not run (bad input, unreachable database): exit 2."""

    exit_code = 2


class UsageError(RunbookError):
    """Something the user gave us is wrong; the message says what and what to do."""


class DatabaseMissing(RunbookError):
    """The server answers but the database does not exist."""


class Refused(RunbookError):
    """The database is in a state or a situation where changing it now would be wrong: exit 1."""

    exit_code = 1


class NotebookFailed(RunbookError):
    """A runbook notebook stopped with an error in one of its cells: exit 1."""

    exit_code = 1


class GalaxyCommandFailed(RunbookError):
    """Galaxy's code raised: its exception type and message, masked (exit 1)."""

    exit_code = 1

    def __init__(self, kind: str, message: str, partial: dict | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.galaxy_message = message
        partial = partial or {}
        self.migration_log: list[str] = partial.get("migration_log", [])
        self.errors: list[str] = partial.get("errors", [])
