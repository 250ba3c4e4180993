"""Errors the CLI turns into one clear line and an exit code: every one that carries an exit code."""

from runbooks.paths import program


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


class SeeCommand(UsageError):
    """A refusal whose way out is another command (``task``) on the same database and Galaxy code.

    Raised where the database is not known (the revision graph, a target); the task that knows it
    re-raises ``completed`` with the whole command to paste (``printed_commands.see``). Alone, the
    command names the task bare, which is whole for the embedded sample.
    """

    def __init__(self, reason: str, task: str, after: str = "") -> None:
        self.reason, self.task, self.after = reason, task, after
        super().__init__(self.completed(f"{program()} {task}").args[0])

    def completed(self, command: str) -> UsageError:
        return UsageError(f"{self.reason}: see `{command}`{self.after}")
