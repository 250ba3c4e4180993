"""The tool as its users meet it: the built wheel in a fresh venv, driven from another directory.

No editable install, no ``PYTHONPATH``, an empty ``HOME`` (so empty caches: the baseline, the sample,
backups all start from nothing), against checkout trees of 23.1 and 25.0 whose ``.venv`` is that
release's own (every galaxy-* package pinned to it: pydantic 1 and SQLAlchemy 1.4 on 23.1). Each step
must pass: a failure here is the tool's, the databases are the releases' own. Every command the tool
prints for pasting is pasted into bash, from yet another directory, and must do what it says.

Cheap on purpose: one wheel per test run (shared by the workers), one venv per run whose dependencies
are links to this project's (the wheel itself goes in with pip, so its files, its script and its
package data are what a user gets); the release venvs are the user's cache (tests/fixtures/release_pins.py).
Mandatory under CI=true: a release venv that cannot be made fails the tier, never skips it.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import pty
import re
import select
import shlex
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.settings import CACHE_ENV, DB_URL_ENV, HOME_ENV, PROGRAM_ENV
from runbooks.testing.scratch_states import checkout_with_two_heads

from conftest import IN_CI, PROJECT, file_lock
from shared_run import made_once, run_folder

sys.path.insert(0, str(PROJECT / "tests" / "fixtures"))
from make_checkout_tree import build_tree, ensure_release_venv  # noqa: E402
from release_pins import VENV_CACHES  # noqa: E402

RELEASES = {"23.1": "23.1.4", "25.0": "25.0.4"}
FIXTURES = PROJECT / "tests" / "fixtures" / "releases"
SCRIPT = "galaxy-migrations"
NOT_LINKED = ("pip", "setuptools", "_distutils_hack", "pkg_resources", "__pycache__", "distutils-precedence.pth")
PRINTED = re.compile(r"`((?:galaxy-migrations|python -m runbooks) [^`]*)`")


def _build_wheel(folder: Path) -> None:
    folder.mkdir()
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), "."],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-3000:]


def shared_wheel() -> Path:
    """The project's wheel, built once per test run whichever worker asks first (test_install's too)."""
    return next(made_once(run_folder() / "wheel", _build_wheel).glob("*.whl"))


@pytest.fixture(scope="session")
def wheel() -> Path:
    return shared_wheel()


def _link_dependencies(site: Path) -> None:
    """The project venv's packages, each linked into ``site``: the wheel's own dependencies, in the folder
    that holds the installed ``runbooks`` (as pip puts them), without downloading Galaxy again."""
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        name = entry.name
        if name in NOT_LINKED or name.startswith(("__editable__", "galaxy_migration_runbooks", "pip-", "setuptools-")):
            continue
        if not (site / name).exists():
            (site / name).symlink_to(entry)


@pytest.fixture(scope="session")
def installed(wheel) -> Path:
    """A venv with the wheel pip-installed into it (made once per run: a venv cannot be moved)."""
    venv = run_folder() / "installed-venv"
    with file_lock(run_folder() / "installed-venv.lock"):
        if not (venv / "ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            site = Path(
                subprocess.check_output(
                    [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    text=True,
                ).strip()
            )
            _link_dependencies(site)
            pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q"]
            done = subprocess.run([*pip, str(wheel)], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-3000:]
            (venv / "ready").touch()
    return venv


def release_venv(version: str) -> Path:
    for cache in VENV_CACHES:
        if (cache / f"galaxy-data-{version}" / "bin" / "python").is_file() or IN_CI:
            break
    else:
        pytest.skip(f"no cached venv of galaxy-data {version} (CI=true makes it)")
    try:
        with file_lock(PROJECT / "build" / "locks" / f"release-venv-{version}.lock"):
            return ensure_release_venv(version, VENV_CACHES)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        pytest.fail(f"galaxy-data {version} could not be installed for its checkout tree: {error}")


class User:
    """Runs commands as a user at a shell: fresh HOME, PATH with the tool's script, no project variables."""

    def __init__(self, tmp: Path, bin_dir: Path) -> None:
        self.home = tmp / "home"
        self.cwd = tmp / "elsewhere"
        self.home.mkdir(parents=True)
        self.cwd.mkdir()
        drop = {"PYTHONPATH", HOME_ENV, CACHE_ENV, DB_URL_ENV, PROGRAM_ENV, "VIRTUAL_ENV", "XDG_DATA_HOME"}
        self.env = {k: v for k, v in os.environ.items() if k not in drop}
        self.env |= {"HOME": str(self.home), "PATH": f"{bin_dir}:/usr/bin:/bin"}
        self.ran: list[str] = []
        self.seconds: list[tuple[float, str]] = []  # what each command cost (printed at the end of a test)

    def _timed(self, line: str, started: float) -> None:
        self.seconds.append((round(time.monotonic() - started, 1), line.replace(str(self.home), "~")[:100]))

    def __call__(self, line: str, expect: int | tuple = 0) -> str:
        """``line`` in bash from the other directory; its output, once its exit status is ``expect``."""
        expect = expect if isinstance(expect, tuple) else (expect,)
        self.ran.append(line)
        started = time.monotonic()
        result = subprocess.run(
            ["bash", "-c", line], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=600
        )
        self._timed(line, started)
        assert result.returncode in expect, f"{line}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        return result.stdout

    def stderr(self, line: str, expect: int) -> str:
        """The one line ``line`` says on stderr, once it exits with ``expect``."""
        self.ran.append(line)
        started = time.monotonic()
        result = subprocess.run(["bash", "-c", line], cwd=self.cwd, env=self.env, capture_output=True, text=True)
        self._timed(line, started)
        assert result.returncode == expect and "Traceback" not in result.stderr, f"{line}\n{result.stderr[-3000:]}"
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        return result.stderr

    def answering_yes(self, line: str) -> str:
        """``line`` pasted into a terminal (a pty), answering its question with y."""
        self.ran.append(line)
        started = time.monotonic()
        main, secondary = pty.openpty()
        process = subprocess.Popen(
            ["bash", "-c", line], cwd=self.cwd, env=self.env, stdin=secondary, stdout=secondary, stderr=secondary
        )
        os.close(secondary)
        output, answered = b"", False
        while True:
            ready = select.select([main], [], [], 600)[0]
            try:
                chunk = os.read(main, 65536) if ready else b""
            except OSError:  # EIO: the terminal's other side closed (the command ended)
                chunk = b""
            if not chunk:
                break
            output += chunk
            if not answered and b"?" in output:
                os.write(main, b"y\n")
                answered = True
        os.close(main)
        text = output.decode(errors="replace")
        assert process.wait(timeout=60) == 0, f"{line}\n{text[-3000:]}"
        self._timed(line, started)
        return text


def printed(output: str, task: str) -> list[str]:
    """The installed tool's printed ``galaxy-migrations TASK …`` commands; none may name the clone's program."""
    found = PRINTED.findall(output)
    assert all(line.startswith(f"{SCRIPT} ") for line in found), found
    return [line for line in found if line.split()[1] == task]


def gxy_current(user: User, root: Path) -> list[str]:
    report = json.loads(user(f"{SCRIPT} status --json --galaxy-root {root}", expect=(0, 1)))
    return report["branches"]["gxy"]["current"]


@functools.cache
def tree_graph(root: Path) -> RevisionGraph:
    return RevisionGraph.load(GalaxyEnv.from_checkout(root))


def gxy_rows(root: Path) -> list[str]:
    """The tree database's gxy rows, read back directly (read-only; no tool run: the steps between commands)."""
    connection = sqlite3.connect(f"file:{root}/database/universe.sqlite?mode=ro", uri=True)
    try:
        rows = [row for (row,) in connection.execute("SELECT version_num FROM alembic_version")]
    finally:
        connection.close()
    return sorted(row for row in rows if tree_graph(root).branch_of(row) == "gxy")


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """``trees(tag)``: a checkout tree of the release with its own venv and its own database (a data fixture
    that release's code made, at its head), made once per module."""
    made = {}

    def tree(tag: str) -> Path:
        if tag not in made:
            version = RELEASES[tag]
            root = tmp_path_factory.mktemp(f"installed-{tag}") / "galaxy"
            fixture = FIXTURES / f"galaxy-data-{version}.data.sqlite.gz"
            made[tag] = build_tree(version, root, release_venv(version), sqlite_fixture=fixture)
        return made[tag]

    return tree


def run_line(user: User, task: str, root: Path, expect: int | tuple = 0) -> str:
    """``galaxy-migrations run TASK --galaxy-root ROOT``: its stdout (the Executed line and the runbook's outcome)."""
    return user(f"{SCRIPT} run {task} --galaxy-root {root}", expect=expect)


def gxy_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "lib/galaxy/model/migrations/alembic/versions_gxy").glob("*.py"))


@pytest.mark.parametrize("tag", sorted(RELEASES))
def test_installed_tool_on_a_checkout_with_its_own_venv(installed, trees, tag, tmp_path):
    """The commands and all six runbooks, with their defaults, on the tree's own database; what they print, pasted."""
    root = trees(tag)
    user = User(tmp_path, installed / "bin")
    version = user(f"{SCRIPT} --version --galaxy-root {root}")
    assert f"Galaxy {RELEASES[tag]}: the checkout {root}, run on its virtualenv's {root}/.venv/bin/python" in version
    assert '"state": "up-to-date"' in user(f"{SCRIPT} status --json --galaxy-root {root}")
    (head,) = gxy_current(user, root)
    doctor = user(f"{SCRIPT} troubleshoot --drift --json --galaxy-root {root}")
    report = json.loads(doctor)
    assert [f["code"] for f in report["findings"] if f["severity"] == "error"] == []
    assert "schema-drift" not in [skip["check"] for skip in report["skipped"]], report["skipped"]
    refused_then_pasted(user, root, head)

    # the downgrade runbook's default target is this code's own (two releases back); its outcome says how to apply it
    (apply,) = printed(run_line(user, "downgrade", root), "run")
    target = re.search(r" -p target (\S+) ", apply).group(1)
    assert apply.startswith(f"{SCRIPT} run downgrade -p target {target} -p confirm true ") and str(root) in apply
    (back,) = printed(user(apply), "restore")
    assert gxy_rows(root) == [tree_graph(root).tag_revision(target)]
    user(back)
    assert gxy_rows(root) == [head]

    down = user(f"{SCRIPT} downgrade gxy@-1 --yes --galaxy-root {root}")
    (restore_head,) = printed(down, "restore")
    (parent,) = gxy_rows(root)
    assert parent != head
    status = user(f"{SCRIPT} status --galaxy-root {root}", expect=1)
    rehearse, upgrade = printed(status, "upgrade")
    assert "--rehearse" in rehearse and f"--galaxy-root {root}" in upgrade
    runbook = run_line(user, "status", root, expect=1)  # the runbook's outcome keeps the checkout too
    pasted, _ = printed(runbook, "upgrade")
    assert "--rehearse" in pasted and pasted.endswith(f"--galaxy-root {root}")
    assert "Rehearsal passed" in user(pasted)
    assert gxy_rows(root) == [parent]

    (apply,) = printed(run_line(user, "upgrade", root), "run")  # rehearsed only; its outcome applies it
    assert apply.startswith(f"{SCRIPT} run upgrade -p target head -p confirm true ")
    (back,) = printed(user(apply), "restore")
    assert gxy_rows(root) == [head]
    user(back)
    assert gxy_rows(root) == [parent]

    upgraded = user.answering_yes(upgrade)
    assert gxy_rows(root) == [head]
    (restore_parent,) = printed(upgraded, "restore")
    user(restore_parent)  # back to before the upgrade, as it said
    assert gxy_rows(root) == [parent]
    user(restore_head)  # back to before the downgrade
    assert gxy_rows(root) == [head]

    assert "The doctor found: no problem." in run_line(user, "troubleshoot", root)
    files = gxy_files(root)
    assert "proved it on sqlite" in run_line(user, "create", root) and gxy_files(root) == files
    assert gxy_rows(root) == [head]
    assert sorted(p.name for p in user.cwd.iterdir()) == []  # nothing written where it ran
    print("\n".join(f"{seconds:6.1f}s  {line}" for seconds, line in user.seconds))


def refused_then_pasted(user: User, root: Path, head: str) -> None:
    """A refusal whose way out is another command names it whole, with the user's --db/--galaxy-root."""
    db = f"sqlite:///{root}/database/universe.sqlite"
    refusal = user.stderr(f"{SCRIPT} downgrade 0badbeef --db {db} --galaxy-root {root}", expect=2)
    (status,) = PRINTED.findall(refusal)
    assert status == f"{SCRIPT} status --db {db} --galaxy-root {root}", refusal
    assert head in user(status)
    two = checkout_with_two_heads(
        user.home / "two-heads", RevisionGraph.load(GalaxyEnv.from_checkout(root)), GalaxyEnv.from_checkout(root)
    )
    refusal = user.stderr(f"{SCRIPT} upgrade --rehearse --db {db} --galaxy-root {two.root}", expect=2)
    (troubleshoot,) = PRINTED.findall(refusal)
    assert troubleshoot == f"{SCRIPT} troubleshoot --db {db} --galaxy-root {two.root}", refusal
    assert "f00dfeed0001" in user(troubleshoot, expect=(0, 1))


def test_installed_and_clone_doctors_judge_alike(installed, tmp_path):
    """The doctor from the wheel (its package data) and from the clone, each with empty caches, judge a 26.0.2
    database upgraded by the installed galaxy-data the same way: what only Galaxy's own upgrade path leaves
    (a release database upgraded by this code, in the baseline) is Galaxy's, not the database's fault."""
    database = tmp_path / "universe.sqlite"
    database.write_bytes(gzip.decompress((FIXTURES / "galaxy-data-26.0.2.sqlite.gz").read_bytes()))
    url = f"sqlite:///{database}"
    User(tmp_path / "upgrade", installed / "bin")(f"{SCRIPT} upgrade --yes --no-backup --db {url}")
    seen = {}
    for form, program, bin_dir in (
        ("installed", SCRIPT, installed / "bin"),
        ("clone", "python -m runbooks", Path(sys.executable).parent),
    ):
        user = User(tmp_path / form, bin_dir)
        report = json.loads(user(f"{program} troubleshoot --drift --json --db {url}"))
        seen[form] = sorted((f["code"], f["severity"], f["summary"]) for f in report["findings"])
    assert seen["installed"] == seen["clone"]
    assert [code for code, severity, _ in seen["installed"]] == ["schema-left-by-galaxy"]


def test_pipx_layout_names_its_linked_script(installed, trees, tmp_path):
    """pipx links the script into ~/.local/bin; the venv's own bin is not on PATH. The tutorial runs there too."""
    root = trees("23.1")
    links = tmp_path / "local-bin"
    links.mkdir()
    (links / SCRIPT).symlink_to(installed / "bin" / SCRIPT)
    user = User(tmp_path, links)
    assert user(f"{SCRIPT} --help").startswith(f"usage: {SCRIPT} ")
    rehearsal = user(f"{SCRIPT} downgrade gxy@-1 --rehearse --galaxy-root {root}")
    assert "Rehearsal passed" in rehearsal
    assert all(line.startswith(f"{SCRIPT} ") for line in PRINTED.findall(rehearsal))
    # the sixth runbook takes no checkout (one line says so) and runs on the installed galaxy-data's sample, made
    # in the empty HOME (here, not in the trees' tests: it runs beside them)
    refused = user.stderr(f"{SCRIPT} run first-migration --galaxy-root {root}", expect=2)
    assert "takes no Galaxy checkout: drop --galaxy-root" in refused
    assert "Tutorial done" in user(f"{SCRIPT} run first-migration")
    assert sorted(p.name for p in user.cwd.iterdir()) == []


def test_installed_baseline_reads_the_release_databases_the_clone_reads(installed, tmp_path):
    code = (
        "from runbooks.tasks.baseline import release_fixtures as r; "
        "print([n for n, _ in r('sqlite') + r('postgresql')])"
    )
    user = User(tmp_path, installed / "bin")
    from runbooks.tasks.baseline import release_fixtures

    clone = [name for name, _ in release_fixtures("sqlite") + release_fixtures("postgresql")]
    assert user(f"python -c {shlex.quote(code)}").strip() == str(clone) and clone


def test_the_wheel_reads_nothing_from_tests(wheel):
    """What the runtime needs is in the package: no module of the wheel names a path into the clone's tests/."""
    offenders = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        for name in names:
            if name.endswith((".py", ".ipynb", ".json")):
                text = archive.read(name).decode("utf-8")
                code = _code_strings(text) if name.endswith(".py") else text
                if re.search(r"""["'/]tests["'/]""", code):
                    offenders.append(name)
    assert offenders == []
    assert any(n.startswith("runbooks/tasks/release_databases/galaxy-data-25.0.4") for n in names)


def _code_strings(source: str) -> str:
    """The string literals a module's code uses, quoted, without its docstrings and comments."""
    import ast

    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [
        repr(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]
    return "\n".join(strings)
