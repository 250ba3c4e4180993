"""Processes the project starts end with the process that started them, however it ends.

On Linux the kernel delivers SIGKILL to a process whose parent dies (``PR_SET_PDEATHSIG``),
SIGKILL of the parent included. The parent may already be gone by the time the request is
made, so the caller checks ``getppid()`` against the parent it expects and leaves if they
differ. Elsewhere the worker server's own watch (its stdin closing, ``getppid()``) does it.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the server's own watch has to do
        return None


def die_with_parent(expected_parent: int, prctl=None) -> None:
    """Have the kernel kill this process when ``expected_parent`` ends; exit now if it already has."""
    prctl = prctl or _prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != expected_parent:
        os._exit(1)


def dies_with_us():
    """A ``preexec_fn`` for ``subprocess``: the tool (pg_dump, pg_restore) dies with this process.

    prctl is looked up here, before the fork: the child of a threaded parent (a notebook
    kernel) must not load libraries between fork and exec."""
    parent, prctl = os.getpid(), _prctl()
    return lambda: die_with_parent(parent, prctl)
