"""Errors the CLI turns into one clear line and an exit code."""


class RunbookError(Exception):
    """A task could not run (bad input, unreachable database): exit 2."""

    exit_code = 2


class UsageError(RunbookError):
    """Something the user gave us is wrong; the message says what and what to do."""
