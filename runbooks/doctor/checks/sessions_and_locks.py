"""Who else is on the database: PostgreSQL sessions and the locks they wait for, SQLite lock holders."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from runbooks.database.connections import CONNECT_TIMEOUT_S
from runbooks.database.sqlite_files import exclusive_holder, hot_journal
from runbooks.database.urls import mask_text
from runbooks.doctor.checks.examination import SHOWN, Examination, shown_ids


def check_readable(ex: Examination) -> bool:
    """SQLite: a writer's EXCLUSIVE lock or a crashed writer's hot journal keeps every reader out."""
    if not ex.db.is_sqlite or not ex.db.sqlite_path.is_file():
        return True
    path = ex.db.sqlite_path
    if exclusive_holder(path, wait_s=CONNECT_TIMEOUT_S) is not None:
        _sqlite_sessions(ex)
        return False
    ex.ran("hot-journal")
    journal = hot_journal(path)
    if journal is None:
        return True
    ex.add(
        "hot-journal",
        f"{journal.name} is a hot rollback journal: a writer crashed (or was killed) mid-transaction and no process "
        f"holds {path.name} now; until it is rolled back, nothing can read the database read-only",
        "keep the journal beside the file (deleting or moving it corrupts the database); SQLite rolls it back on "
        f"the next read-write open: `sqlite3 {shlex.quote(str(path))} 'PRAGMA quick_check;'` (or start Galaxy), "
        f"then {ex.cli('troubleshoot')} again",
        {"journal": str(journal), "bytes": journal.stat().st_size},
    )
    return False


def check_sessions_and_locks(ex: Examination) -> None:
    from runbooks.database.sessions import activity, terminate_statement

    ex.ran("active-sessions")
    if ex.db.is_sqlite:
        _sqlite_sessions(ex)
        return
    ex.ran("blocked-by-locks")
    sessions = activity(ex.db).sessions
    if not sessions:
        return
    by_pid = {s.pid: s for s in sessions}
    waiting = [s for s in sessions if s.blocked_by]
    blockers = sorted({pid for s in waiting for pid in s.blocked_by})
    if waiting:
        lines, fixes = [], []
        for pid in blockers:
            holder = by_pid.get(pid)
            what = holder.describe() if holder else f"pid {pid} (another database's session)"
            age = ""
            if holder and holder.idle_in_transaction and holder.transaction_age_s is not None:
                age = f", transaction open {holder.transaction_age_s:.0f}s"
            lines.append(what + age)
            fixes.append(terminate_statement(pid))
        waiters = "; ".join(
            f"pid {s.pid} ({s.query[:80]}) waits for pid {', '.join(map(str, s.blocked_by))}" for s in waiting
        )
        ex.add(
            "blocked-by-locks",
            f"{waiters}. Blocking: " + " | ".join(lines),
            f"stop the process behind pid {', '.join(map(str, blockers))} (a Galaxy handler or a forgotten psql?) "
            "or, if you choose to end it: " + " ".join(fixes),
            {
                "waiting": [s.pid for s in waiting],
                "blockers": blockers,
                "terminate": fixes,
                "sessions": [by_pid[p].describe() for p in blockers if p in by_pid],
            },
        )
        ex.busy.append("sessions wait for locks")
    risky = [s for s in sessions if s.would_block_migration]
    if risky:
        ex.busy.append(f"pid {', '.join(str(s.pid) for s in risky)} hold(s) locks or an open transaction")
    summary = (
        f"{len(sessions)} other session(s) on {ex.db.database_name}: pids {shown_ids([str(s.pid) for s in sessions])}"
    )
    if risky:
        summary += "; would block a migration: " + "; ".join(
            f"pid {s.pid} {s.state}"
            + (f" for {s.state_age_s:.0f}s" if s.state_age_s is not None else "")
            + (f" holding locks on {', '.join(s.relation_locks)}" if s.relation_locks else "")
            for s in risky
        )
    ex.add(
        "active-sessions",
        summary,
        "stop Galaxy (web, job handlers, workflow schedulers, celery workers) before migrating; a session that "
        "stays idle in transaction can be ended with " + " ".join(terminate_statement(s.pid) for s in risky[:3])
        if risky
        else "stop Galaxy (web, job handlers, workflow schedulers, celery workers) before migrating",
        {"sessions": [s.describe() for s in sessions], "would_block": [s.pid for s in risky]},
    )


def sqlite_openers(path: Path) -> list[tuple[int, str]]:
    """Other processes (of this user) with the SQLite file open: (pid, command line)."""
    target = str(Path(path).resolve())
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found.append((int(entry.name), mask_text(" ".join(command.split()))[:100]))
                    break
            except OSError:
                continue
    return sorted(found)


def _sqlite_sessions(ex: Examination) -> None:
    from runbooks.database.sessions import sqlite_locks

    ex.ran("database-locked")
    path = ex.db.sqlite_path
    locks = sqlite_locks(path)
    openers = sqlite_openers(path)
    if locks:
        writers = [lock for lock in locks if lock.kind in ("reserved", "pending")]
        pids = sorted({lock.pid for lock in locks})
        commands = {pid: cmd for pid, cmd in openers}
        who = "; ".join(
            f"pid {pid} holds a {' and '.join(lock.kind for lock in locks if lock.pid == pid)} lock"
            + (f" ({commands[pid]})" if pid in commands else "")
            for pid in pids
        )
        ex.add(
            "database-locked",
            f"{path.name} is locked by another process: {who}" + ("" if writers else " (a reader's open transaction)"),
            f"stop the process (pid {', '.join(map(str, pids))}: a running Galaxy, a sqlite3 shell?) and migrate "
            'after it has ended; a migration now fails with "database is locked"',
            {"locks": [{"kind": lock.kind, "pid": lock.pid} for lock in locks]},
            severity="error" if writers else "warning",
        )
        ex.busy.append("the file is locked")
    others = [(pid, cmd) for pid, cmd in openers if pid not in {lock.pid for lock in locks}]
    if others:
        ex.add(
            "active-sessions",
            f"{len(others)} other process(es) have {path.name} open: "
            + "; ".join(f"pid {pid} ({cmd})" for pid, cmd in others[:SHOWN]),
            "stop Galaxy (and any sqlite3 shell) before migrating",
            {"processes": [{"pid": pid, "command": cmd} for pid, cmd in others]},
        )
