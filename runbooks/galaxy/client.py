"""The client side of the Galaxy worker server: one server per Galaxy code tree, per process.

The server (``runbooks.galaxy.worker``) imports galaxy.model once and forks a child for
every request; requests and replies are JSON lines on its stdin/stdout, as
``runbooks.galaxy.protocol`` says. The database URL travels in the request (a pipe), never
on a command line or in an environment. This module is the transport; what the replies
mean is ``runbooks.galaxy.commands``. A request interrupted here (Ctrl-C in the CLI or a
notebook, SIGTERM) stops its server, which kills the command's child: no migration goes on
after the caller gave up on it.
"""

from __future__ import annotations

import atexit
import json
import signal
import subprocess
import tempfile

from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.errors import RunbookError
from runbooks.galaxy.protocol import PROGRESS_PREFIX, REPLY_PREFIX, server_command

STOP_SECONDS = 10.0


class _Server:
    def __init__(self, lib_dir: str | None) -> None:
        argv, env, cwd = server_command(lib_dir)
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            cwd=cwd,
            text=True,
            bufsize=1,
        )
        self.asked = False

    def ask(self, message: dict, progress=None) -> dict | None:
        """The reply; None if the server stopped. Progress lines before it go to ``progress``."""
        self.asked = True
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            for line in self.process.stdout:
                if line.startswith(REPLY_PREFIX):
                    return json.loads(line[len(REPLY_PREFIX) :])
                if line.startswith(PROGRESS_PREFIX) and progress is not None:
                    progress(json.loads(line[len(PROGRESS_PREFIX) :]))
        except (BrokenPipeError, OSError):
            pass
        except BaseException:  # interrupted: the reply will never be read, so nothing may go on
            self.stop()
            raise
        return None

    def last_log_line(self) -> str:
        self.log.seek(0)
        lines = [line for line in self.log.read().splitlines() if line.strip()]
        return lines[-1] if lines else f"exit code {self.process.poll()}"

    def stop(self) -> None:
        """SIGTERM: the server kills and reaps its running child, then exits; wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()  # its child dies with it (PR_SET_PDEATHSIG)
                self.process.wait()

    def close(self) -> None:
        if not self.asked:  # started ahead (warm_up) for a command that ended before needing it
            self.stop()
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


_servers: dict[str | None, _Server] = {}


def _server(lib_dir: str | None) -> _Server:
    server = _servers.get(lib_dir)
    if server is None or server.process.poll() is not None:
        server = _servers[lib_dir] = _Server(lib_dir)
    return server


def start(lib_dir: str | None = None) -> None:
    """Start the server for ``lib_dir`` now, without waiting: it imports Galaxy while the caller works.

    The first request would start it anyway; starting it early overlaps Galaxy's import
    (seconds) with the caller's pre-flight (reading the database, planning, checking sessions).
    """
    _server(lib_dir)


def stop_all() -> None:
    """Stop every server and whatever it runs; return once they have exited."""
    for server in _servers.values():
        server.stop()


@atexit.register
def _close_all() -> None:
    for server in _servers.values():
        server.close()
    _servers.clear()


def ask(
    request: dict,
    db: DatabaseUrl,
    lib_dir: str | None = None,
    alembic_config: str | None = None,
    timeout: float | None = None,
    progress=None,
) -> dict:
    """Run one request in a fresh child of the Galaxy server for ``lib_dir``; its reply.

    A ``crashed`` reply gets the server's last log line, masked, as ``log``.
    """
    server = _server(lib_dir)
    message = {**request, "url": db.secret(), "alembic_config": alembic_config, "timeout": timeout}
    reply = server.ask(message, progress)
    if reply is None:
        raise RunbookError(f"the Galaxy worker stopped: {mask_text(server.last_log_line(), db.password)}")
    if "crashed" in reply:
        reply["log"] = mask_text(server.last_log_line(), db.password)
    return reply
