"""The Galaxy worker server: imports galaxy.model once, answers each request in a forked child.

Started by ``runbooks.galaxy.client`` (the protocol: ``runbooks.galaxy.protocol``). A child
runs exactly one command (``runbooks.galaxy.child.run``) with a clean copy of the imported
modules, so no state leaks from one command to the next. The server ends when its stdin
closes, when its parent dies (the kernel kills it: ``runbooks.lifetime``; and it watches
``getppid()``), or on SIGTERM (the parent stopping a migration); a running child is killed
and reaped first. A child dies with the server. SIGINT is ignored here: a Ctrl-C reaches the
whole process group, and only the parent decides to stop (it then sends SIGTERM).
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback

from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.galaxy.child import quiet_galaxy_logging, run, send_progress_to
from runbooks.galaxy.protocol import REPLY_PREFIX, missing_module_refusal
from runbooks.lifetime import die_with_parent

WATCH_SECONDS = 1.0  # how often the server looks whether its parent is still there


def _child(message: dict, write_fd: int) -> None:
    send_progress_to(os.dup(1))  # the server's stdout, before it is pointed at stderr
    os.dup2(2, 1)  # whatever Galaxy prints must not mix with the replies
    db = DatabaseUrl.parse(message["url"])
    if message.get("alembic_config"):
        os.environ["ALEMBIC_CONFIG"] = message["alembic_config"]
    else:
        os.environ.pop("ALEMBIC_CONFIG", None)
    try:
        reply = run(message, db)
    except Exception as error:  # Galaxy's exception is the answer: its type and exact message
        reply = {"exception": {"type": error.__class__.__name__, "message": mask_text(str(error), db.password)}}
        partial = getattr(error, "partial_output", None)
        if partial is not None:
            reply["exception"]["partial"] = {"migration_log": partial.migration_log, "errors": partial.errors}
    with os.fdopen(write_fd, "w") as pipe:
        pipe.write(json.dumps(reply))


def _read_answer(read_fd: int, timeout: float | None, parent: int) -> bytes | None:
    """The child's whole answer (b"" if it died without one); None at the timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    chunks = []
    while True:
        wait = WATCH_SECONDS if deadline is None else min(WATCH_SECONDS, deadline - time.monotonic())
        if wait <= 0:
            return None
        if not select.select([read_fd], [], [], wait)[0]:
            if os.getppid() != parent:  # the client is gone: nobody will read the answer
                raise SystemExit(0)
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _run_in_child(message: dict, parent: int) -> dict:
    read_fd, write_fd = os.pipe()
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            die_with_parent(server)
            _child(message, write_fd)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    os.close(write_fd)
    data = None
    try:
        data = _read_answer(read_fd, message.get("timeout"), parent)
    finally:
        os.close(read_fd)
        if data is None:  # the timeout, or the server is leaving
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if data is None:
        return {"timed_out": message["timeout"]}
    if not data:
        return {"crashed": f"wait status {status}"}
    return json.loads(data)


def _stop(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough; let the cleanup finish
    raise SystemExit(128 + signum)  # unwinds _run_in_child, which kills and reaps the child


def _import_galaxy() -> str | None:
    """The imports every child shares; the refusal line when the Galaxy code needs a missing module."""
    try:
        import alembic.autogenerate  # noqa: F401
        import galaxy.model.migrations.dbscript  # noqa: F401
        import galaxy.model.tool_shed_install  # noqa: F401
    except ModuleNotFoundError as error:
        return missing_module_refusal(error)
    return None


def serve(parent: int) -> int:
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    refusal = _import_galaxy()
    quiet_galaxy_logging()
    for line in sys.stdin:
        if line.strip():
            reply = {"refused": refusal} if refusal else _run_in_child(json.loads(line), parent)
            sys.stdout.write(REPLY_PREFIX + json.dumps(reply) + "\n")
            sys.stdout.flush()
    return 0


def main(parent: int) -> None:
    code = serve(parent)
    # No child is running (each was reaped) and the replies are flushed: leave without the
    # interpreter's teardown, which with galaxy.model imported costs seconds (measured 1-4 s on
    # 2 cores) that the client would spend waiting in its exit, after the migration was done.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main(int(sys.argv[1]))
