"""``python -c CODE ARGS`` for the docs experiments, forked from a warm interpreter.

Every experiment runs a small program against Galaxy's code (``manage_db.sh``'s parser, the
``run_alembic.sh`` entry point, Galaxy's startup check) as an admin's shell would: a fresh
``python -c``. A fresh Python spends about 4 s of CPU importing Galaxy, and a cold build runs
about 25 of them. Here a server imports Galaxy's migration modules once and forks a child per
run; the child takes the run's arguments, working directory and environment, then executes the
code as ``python -c`` does: in a new ``__main__``, an uncaught exception printed by the
interpreter's own hook from the program's first frame, the exit status SystemExit's, the exit
handlers run. A server is started per set of ``PYTHON*`` variables, which the interpreter only
reads at start-up (``PYTHONWARNINGS`` sets the warning filters). ``tests/test_python_runner.py``
shows the outputs equal a fresh process's, byte for byte.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# What the experiments' programs import first; importing them is most of a fresh run's cost.
PRELOAD = ("galaxy.model.migrations.dbscript", "galaxy.model.migrations.scripts", "alembic.config")
TIMEOUT_S = 300.0  # one run, unless the caller gives another limit

_SERVER = r"""
import atexit, builtins, json, os, sys, threading, types

from runbooks.lifetime import die_with_parent

die_with_parent(int(sys.argv[1]))
startup_path = list(sys.path)
for name in sys.argv[2:]:
    __import__(name)


def exit_status(stop):
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


def child(request):
    for fd, path in ((1, request["stdout"]), (2, request["stderr"]), (0, os.devnull)):
        opened = os.open(path, os.O_RDONLY if fd == 0 else os.O_WRONLY | os.O_TRUNC)
        os.dup2(opened, fd)
        os.close(opened)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv[:] = ["-c", *request["argv"]]
    sys.path[:] = startup_path
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    status = 0
    try:
        exec(compile(request["code"], "<string>", "exec"), main.__dict__)
    except SystemExit as stop:
        status = exit_status(stop)
    except BaseException:
        kind, error, trace = sys.exc_info()
        error.__traceback__ = trace.tb_next  # from the program's frame, as `python -c` prints it
        sys.excepthook(kind, error, trace.tb_next)
        status = 1
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


server = os.getpid()
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        die_with_parent(server)
        child(json.loads(line))
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(json.dumps(os.waitstatus_to_exitcode(status)) + "\n")
    sys.stdout.flush()
"""


class _Server:
    def __init__(self, startup_env: dict[str, str]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | startup_env
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(os.getpid()), *PRELOAD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )

    def run(
        self, code: str, argv: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="python-run-") as folder:
            out, err = Path(folder) / "stdout", Path(folder) / "stderr"
            out.touch()
            err.touch()
            request = {"code": code, "argv": argv, "cwd": str(cwd), "env": env, "stdout": str(out), "stderr": str(err)}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            if not select.select([self.process.stdout], [], [], timeout)[0]:
                self.process.kill()  # its running child dies with it
                self.process.wait()
                raise RuntimeError(f"an experiment ran longer than {timeout:.0f} s: {argv}")
            reply = self.process.stdout.readline()
            if not reply:
                raise RuntimeError(f"the experiment server stopped (exit code {self.process.wait()})")
            read = {"encoding": "utf-8", "errors": "replace"}
            return subprocess.CompletedProcess(argv, json.loads(reply), out.read_text(**read), err.read_text(**read))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
        self.process.wait()


_idle: dict[tuple, list[_Server]] = {}
_all: list[_Server] = []
_lock = threading.Lock()


def _startup_key(env: dict[str, str]) -> tuple:
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith("PYTHON")))


def run_python(
    code: str, argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """What ``python -c CODE *ARGV`` run in ``cwd`` with ``env`` exits with and prints (text)."""
    env = dict(os.environ if env is None else env)
    key = _startup_key(env)
    with _lock:
        idle = _idle.setdefault(key, [])
        server = idle.pop() if idle else None
    if server is None:
        server = _Server(dict(key))
        with _lock:
            _all.append(server)
    try:
        return server.run(code, argv, cwd, env, TIMEOUT_S if timeout is None else timeout)
    finally:
        if server.process.poll() is None:  # a server killed at a timeout is not used again
            with _lock:
                _idle[key].append(server)


@atexit.register
def _close_all() -> None:
    for server in _all:
        server.close()
    _all.clear()
    _idle.clear()
