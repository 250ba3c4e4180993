"""Checkout mode: the CLI on trees shaped like Galaxy checkouts of each release with Alembic.

Each tree is assembled at test time by tests/fixtures/make_checkout_tree.py from that release's
published packages, installed into a venv of its own (made once per machine in the user's cache,
$RUNBOOK_PINNED_VENVS: about 1-2 minutes per release). The tree's ``.venv`` is that venv, so
the commands run the release's own code on its own Python, from the tree's root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph, read_revision
from runbooks.settings import WRITE_SUPPORT_ENV

from conftest import PROJECT, file_lock, run_cli

sys.path.insert(0, str(PROJECT / "tests" / "fixtures"))
from make_checkout_tree import build_tree, ensure_release_venv  # noqa: E402
from release_pins import VENV_CACHES  # noqa: E402

from docs_build.generated.supported_releases import COMMANDS, RESULTS  # noqa: E402

INSTALLED = "installed"  # the project's own galaxy-data (26.1.2): its venv is the tree's

# release tag -> galaxy-data version. 23.0.x is the first Alembic wheel: there is no 22.05 on
# PyPI, so its tree stands for 22.05 (the same 11 revisions past 22.05's tag).
RELEASES = {
    "23.0": "23.0.6",
    "23.1": "23.1.4",
    "24.1": "24.1.4",
    "25.0": "25.0.4",
    "26.1": INSTALLED,
}
# The older trees cost an install each where no venv is cached: run them with the full suite
# (`pytest -m slow_release` alone selects them).
SLOW = {"23.0", "23.1", "24.1"}
CONFIG_LINE = "sqlite:///database/universe.sqlite?isolation_level=IMMEDIATE"  # Galaxy's relative default


WRITE_RESULTS = os.environ.get(WRITE_SUPPORT_ENV) == "1"  # refresh checkout-support.json from this run
REFUSED = {"22.01": "22.1.1"}  # SQLAlchemy Migrate releases: the project refuses their checkouts


def observed(tag: str, **facts) -> None:
    """One release's cells of the supported-releases table: checked against the results file, or written.

    A cell that disagrees with what ran fails the test: refresh with RUNBOOK_WRITE_SUPPORT=1.
    """
    with file_lock(PROJECT / "build" / "locks" / "checkout-support.lock"):
        table = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"releases": {}}
        entry = table["releases"].setdefault(tag, {})
        commands = facts.pop("commands", {})
        if WRITE_RESULTS:
            entry.update(facts)
            entry.setdefault("commands", {}).update(commands)
            RESULTS.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
            return
    recorded = {key: entry.get(key) for key in facts} | {
        f"commands.{c}": entry.get("commands", {}).get(c) for c in commands
    }
    ran = facts | {f"commands.{c}": outcome for c, outcome in commands.items()}
    assert recorded == ran, f"{RESULTS.name} disagrees with this run for {tag} (RUNBOOK_WRITE_SUPPORT=1 refreshes it)"


@contextmanager
def cell(tag: str, command: str):
    """The test body runs the command; reaching the end means it works with that release's code."""
    yield
    observed(tag, commands={command: "works"})


def venv_python_version(root: Path) -> str:
    python = root / ".venv" / "bin" / "python"
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def release_venv(version: str) -> Path:
    if version == INSTALLED:
        return Path(sys.prefix)
    try:
        with file_lock(PROJECT / "build" / "locks" / f"release-venv-{version}.lock"):  # one test worker installs it
            return ensure_release_venv(version, VENV_CACHES)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        pytest.fail(f"galaxy-data {version} could not be installed for its checkout tree: {error}")


def make_tree(version: str, dest: Path) -> Path:
    return build_tree(version, dest, release_venv(version))


@pytest.fixture(
    scope="module", params=[pytest.param(t, marks=[pytest.mark.slow_release] if t in SLOW else []) for t in RELEASES]
)
def tree(request, tmp_path_factory):
    """(tag, root, graph): a checkout tree of the release, its database made by ``sample --galaxy-root``."""
    tag = request.param
    root = make_tree(RELEASES[tag], tmp_path_factory.mktemp(f"galaxy-{tag}") / "galaxy")
    made = run_cli("sample", "--galaxy-root", str(root), str(root / "database" / "universe.sqlite"))
    assert made.returncode == 0, made.stderr
    env = GalaxyEnv.from_checkout(root)
    version = RELEASES[tag] if RELEASES[tag] != INSTALLED else _installed_galaxy_data()
    tags_file = str(env.release_tags_file.relative_to(root)) if env.release_tags_file else None
    observed(tag, galaxy_data=version, python=venv_python_version(root), tags_file=tags_file)
    return tag, root, RevisionGraph.load(env)


def _installed_galaxy_data() -> str:
    from importlib.metadata import version

    return version("galaxy-data")


@pytest.fixture(scope="module")
def behind(tree, tmp_path_factory):
    """A database one gxy revision behind the tree's head, moved there by the tree's own code."""
    tag, root, graph = tree
    (head,) = graph.heads("gxy")
    (parent,) = graph.revisions[head].parents
    path = tmp_path_factory.mktemp(f"behind-{tag}") / "behind.sqlite"
    made = run_cli("sample", "--galaxy-root", str(root), "--revision", parent, str(path))
    assert made.returncode == 0, made.stderr
    return f"sqlite:///{path}", parent, head


def status_json(*args: str) -> dict:
    result = run_cli("status", "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_status_reads_the_tags_and_database_of_the_tree(tree):
    tag, root, graph = tree
    with cell(tag, "status"):
        assert (root / "config" / "galaxy.yml").read_text().count(CONFIG_LINE) == 1
        report = status_json("--galaxy-root", str(root))  # run from the project: the path is the tree's
        assert report["database"].startswith(f"sqlite:///{root}/database/universe.sqlite")
        assert report["state"] == "up-to-date"
        assert report["branches"]["gxy"]["current"] == graph.heads("gxy")
        assert report["branches"]["gxy"]["release"].split("+")[0] == tag
        assert graph.release_tags["22.05"] == "186d4835587b" and tag in graph.release_tags


def test_upgrade_rehearsal_with_the_tree_code(tree, behind):
    tag, root, _ = tree
    url, parent, head = behind
    with cell(tag, "upgrade --rehearse"):
        before = Path(url.removeprefix("sqlite:///")).read_bytes()
        result = run_cli("upgrade", "--rehearse", "--db", url, "--galaxy-root", str(root))
        assert result.returncode == 0, result.stderr
        assert "Rehearsal passed" in result.stdout and head in result.stdout
        assert Path(url.removeprefix("sqlite:///")).read_bytes() == before
        assert status_json("--db", url, "--galaxy-root", str(root))["branches"]["gxy"]["current"] == [parent]


def test_troubleshoot_with_the_tree_code(tree, behind):
    tag, root, _ = tree
    url, parent, head = behind
    with cell(tag, "troubleshoot"):
        result = run_cli("troubleshoot", "--json", "--db", url, "--galaxy-root", str(root))
        assert result.returncode == 1, result.stderr
        findings = {finding["code"]: finding for finding in json.loads(result.stdout)["findings"]}
        assert parent in findings["database-behind"]["summary"]
        assert findings["database-behind"]["details"]["pending"]["gxy"] == [head]


def test_create_writes_into_the_tree(tree):
    tag, root, graph = tree
    with cell(tag, "create"):
        (head,) = graph.heads("gxy")
        versions = GalaxyEnv.from_checkout(root).versions_dir("gxy")
        before = set(versions.glob("*.py"))
        result = run_cli("create", "-m", "add a checkout test column", "--galaxy-root", str(root))
        (new,) = set(versions.glob("*.py")) - before
        try:
            assert result.returncode == 0, result.stderr
            assert read_revision(new, "gxy").parents == (head,)
            report = status_json("--galaxy-root", str(root))
            assert report["state"] == "behind" and report["branches"]["gxy"]["pending"] == [new.name.split("_")[0]]
        finally:
            new.unlink()


def test_run_status_notebook_uses_the_tree(tree, tmp_path):
    tag, root, graph = tree
    with cell(tag, "run status"):
        output = tmp_path / "status.ipynb"
        result = run_cli("run", "status", "--galaxy-root", str(root), "-o", str(output))
        assert result.returncode == 0, result.stderr
        notebook = json.loads(output.read_text())
        outputs = [output for code in notebook["cells"] for output in code.get("outputs", [])]
        text = "".join("".join(output.get("text", "")) for output in outputs)
        assert f"Galaxy checkout {root}" in text and "State: up-to-date" in text
        assert graph.heads("gxy")[0] in text


# -- what cannot be driven, and checkouts without everything they need ----------------------


def test_without_a_virtualenv_the_installed_packages_fill_in_and_are_named_once(tmp_path):
    """26.1's code on the project's Python (25.0.4's own code needs `routes` there: the next test's case)."""
    root = make_tree(RELEASES["26.1"], tmp_path / "galaxy")
    (root / ".venv").unlink()
    made = run_cli("sample", "--galaxy-root", str(root), "--revision", "a91ea1d97111", str(tmp_path / "db.sqlite"))
    assert made.returncode == 0, made.stderr
    assert made.stderr.count("has no virtualenv") == 1 and "SQLAlchemy" in made.stderr
    report = status_json("--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "--galaxy-root", str(root))
    assert report["branches"]["gxy"]["current"] == ["a91ea1d97111"]


@pytest.mark.slow_release
def test_a_module_missing_from_the_checkout_is_named_in_one_line(tmp_path):
    """24.1's model imports galaxy.config: a tree without it and without a virtualenv of its own."""
    root = make_tree(RELEASES["24.1"], tmp_path / "galaxy")
    (root / ".venv").unlink()  # the project's Python fills in: it has no galaxy-config
    shutil.rmtree(root / "lib" / "galaxy" / "config")
    result = run_cli("sample", "--galaxy-root", str(root), str(tmp_path / "db.sqlite"))
    assert result.returncode == 2
    note, line = result.stderr.splitlines()
    assert (
        "has no virtualenv" in note
        and "'galaxy.config'" in line
        and str(root) in line
        and "Traceback" not in result.stderr
    )
    assert not (tmp_path / "db.sqlite").exists()


def test_a_sqlalchemy_migrate_release_is_refused_in_one_line(tmp_path):
    """22.01 (galaxy-data 22.1.1) has no Alembic revisions: its tree gets one line saying why."""
    wheels = PROJECT / ".runbooks" / "wheels"
    wheel = next(wheels.glob("galaxy_data-22.1.1-*.whl"), None)
    if wheel is None:
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), "galaxy-data==22.1.1"]
        subprocess.run(pip, check=True, capture_output=True)
        wheel = next(wheels.glob("galaxy_data-22.1.1-*.whl"))
    root = tmp_path / "galaxy"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root / "lib", [n for n in archive.namelist() if n.startswith("galaxy/")])
    result = run_cli("status", "--galaxy-root", str(root))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "22.01 or older" in line and "SQLAlchemy Migrate" in line


@pytest.mark.slow_release
def test_a_2201_checkout_is_refused_by_every_command_in_one_line(tmp_path):
    """A real 22.01 tree (galaxy-data 22.1.1 pinned, its own Python 3.9 venv): no command drives it."""
    from legacy_galaxy import release_2201_tree

    root = release_2201_tree(tmp_path / "galaxy")
    arguments = {
        "status": ["status"],
        "upgrade --rehearse": ["upgrade", "--rehearse"],
        "troubleshoot": ["troubleshoot"],
        "create": ["create", "-m", "a revision for 22.01"],
        "run status": ["run", "status", "-o", str(tmp_path / "status.ipynb")],
    }
    why = set()
    for command in COMMANDS:
        result = run_cli(*arguments[command], "--galaxy-root", str(root))
        assert result.returncode == 2 and "Traceback" not in result.stderr, (command, result.stderr)
        (line,) = result.stderr.splitlines()
        why.add(line.removeprefix("error: ").replace(str(root), "the checkout"))
    assert not list((root / "lib" / "galaxy" / "model").glob("migrations"))
    (line,) = why
    observed(
        "22.01",
        galaxy_data=REFUSED["22.01"],
        python=venv_python_version(root),
        tags_file=None,
        why=line,
        commands=dict.fromkeys(COMMANDS, "refused"),
    )


def test_the_results_file_covers_every_release_and_command():
    """Every release the tests drive (and the one they refuse) has a cell per command, nothing else."""
    releases = json.loads(RESULTS.read_text())["releases"]
    assert set(releases) == set(RELEASES) | set(REFUSED)
    for tag, entry in releases.items():
        assert set(entry["commands"]) == set(COMMANDS), tag
        expected = {"refused"} if tag in REFUSED else {"works"}
        assert set(entry["commands"].values()) == expected, tag
