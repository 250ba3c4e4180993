"""A runbook's own outcome: what it changed or did not, the database's state after, and an exit code.

The last cell of every runbook (tagged ``outcome``) calls ``finish(code, text)``; it shows the text
and records both under ``OUTCOME_MIME``, where ``python -m runbooks run`` reads them from the
executed notebook to end with that text and that exit code (0 done, 1 a problem).
"""

from __future__ import annotations

import json
from pathlib import Path

OUTCOME_MIME = "application/vnd.galaxy-migrations.outcome+json"
OUTCOME_TAG = "outcome"


def finish(code: int, text: str) -> None:
    from IPython.display import display

    display({OUTCOME_MIME: {"code": code, "text": text}, "text/plain": text}, raw=True)


def read_outcome(notebook: Path) -> tuple[int, str] | None:
    """``(code, text)`` from the executed notebook's outcome cell; None if it has none."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    for cell in reversed(cells):
        if OUTCOME_TAG in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                found = output.get("data", {}).get(OUTCOME_MIME)
                if found:
                    return int(found["code"]), str(found["text"])
    return None


def _state(status) -> str:
    return f"The database is now {status.state} (alembic_version: {', '.join(status.rows) or 'no rows'})."


def status_outcome(status, next_step: str) -> tuple[int, str]:
    code = 0 if status.is_healthy else 1  # as the CLI's status: a pair's misplaced row is a problem too
    return code, f"Nothing was changed (status only reads). The database is {status.state}: {next_step}"


def change_outcome(change, after, restored: bool = False, dropped: bool = False) -> tuple[int, str]:
    """An upgrade's or downgrade's outcome, as read back from the database; the commands it names paste whole."""
    from runbooks.cli.render import restore_command
    from runbooks.tasks.printed_commands import command_line

    what, target = change.direction, change.plan.target.text
    if change.outcome is None:
        if change.plan.is_noop:
            return 0, f"Nothing to do: the database is already at {target}. {_state(after)}"
        if change.rehearsal is not None and not change.rehearsal.succeeded:
            return 1, f"Nothing was changed: the rehearsal of the {what} to {target} failed. {_state(after)}"
        apply = command_line(
            "run", what, "-p", "target", target, "-p", "confirm", "true", database=change.selection.database_args
        )
        return 0, (
            f"Nothing was changed: the {what} to {target} was only rehearsed (it passed); "
            f"to apply it: `{apply}`. {_state(after)}"
        )
    rows = ", ".join(change.outcome.rows) or "no rows"
    if not change.outcome.reached:
        return 1, f"NOT DONE: the {what} to {target} stopped at alembic_version {rows}. {_state(after)}"
    done = f"Applied: {what} to {target}; alembic_version read back = {rows}."
    if restored:
        done += " The sample database was then restored from the backup."
    elif dropped:
        done += " The practice database is dropped at the end of this run (its backup has nothing to go back to)."
    elif change.backup is not None:
        done += f" To put it back as it was: `{restore_command(change)}`."
    return 0, f"{done} {_state(after)}"
