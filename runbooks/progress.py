"""Progress of long work, revision by revision, for whoever asked for it (the CLI does; notebooks do not).

``with reporting(print_line):`` around a change makes every Galaxy command run inside it report
each revision as Galaxy's Alembic starts it (streamed from the worker's child, see
``runbooks.galaxy.protocol``), with the seconds since the block began.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_reporters: list[Callable[[dict], None]] = []


@contextmanager
def reporting(say: Callable[[str], None], prefix: str = "  ") -> Iterator[None]:
    started = time.monotonic()

    def report(event: dict) -> None:
        say(f"{prefix}[{time.monotonic() - started:6.1f}s] {event['message']}")

    _reporters.append(report)
    try:
        yield
    finally:
        _reporters.remove(report)


def reporter() -> Callable[[dict], None] | None:
    """The innermost progress callback, or None when nobody asked for progress."""
    return _reporters[-1] if _reporters else None
