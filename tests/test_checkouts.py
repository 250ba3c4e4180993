"""Checkout mode: the CLI on trees shaped like Galaxy checkouts of each release with Alembic.

Each tree is assembled at test time by tests/fixtures/make_checkout_tree.py from that release's
published packages, installed into a venv of its own (found in $RUNBOOK_RELEASE_VENVS, else made
under .runbooks/release-venvs: about 1-2 minutes per release, once). The tree's ``.venv`` is that
venv, so the commands run the release's own code on its own Python, from the tree's root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph, read_revision

from conftest import PROJECT, file_lock, run_cli

sys.path.insert(0, str(PROJECT / "tests" / "fixtures"))
from make_checkout_tree import build_tree, ensure_release_venv  # noqa: E402

VENV_CACHES = [
    Path(os.environ.get("RUNBOOK_RELEASE_VENVS", "/work/cache/release-venvs")),
    PROJECT / ".runbooks" / "release-venvs",
]
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
    return tag, root, RevisionGraph.load(GalaxyEnv.from_checkout(root))


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
    assert (root / "config" / "galaxy.yml").read_text().count(CONFIG_LINE) == 1
    report = status_json("--galaxy-root", str(root))  # run from the project: the path is the tree's
    assert report["database"].startswith(f"sqlite:///{root}/database/universe.sqlite")
    assert report["state"] == "up-to-date"
    assert report["branches"]["gxy"]["current"] == graph.heads("gxy")
    assert report["branches"]["gxy"]["release"].split("+")[0] == tag
    assert graph.release_tags["22.05"] == "186d4835587b" and tag in graph.release_tags


def test_upgrade_rehearsal_with_the_tree_code(tree, behind):
    _, root, _ = tree
    url, parent, head = behind
    before = Path(url.removeprefix("sqlite:///")).read_bytes()
    result = run_cli("upgrade", "--rehearse", "--db", url, "--galaxy-root", str(root))
    assert result.returncode == 0, result.stderr
    assert "Rehearsal passed" in result.stdout and head in result.stdout
    assert Path(url.removeprefix("sqlite:///")).read_bytes() == before
    assert status_json("--db", url, "--galaxy-root", str(root))["branches"]["gxy"]["current"] == [parent]


def test_troubleshoot_with_the_tree_code(tree, behind):
    _, root, _ = tree
    url, parent, head = behind
    result = run_cli("troubleshoot", "--json", "--db", url, "--galaxy-root", str(root))
    assert result.returncode == 1, result.stderr
    findings = {finding["code"]: finding for finding in json.loads(result.stdout)["findings"]}
    assert parent in findings["database-behind"]["summary"]
    assert findings["database-behind"]["details"]["pending"]["gxy"] == [head]


def test_create_writes_into_the_tree(tree):
    _, root, graph = tree
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
    output = tmp_path / "status.ipynb"
    result = run_cli("run", "status", "--galaxy-root", str(root), "-o", str(output))
    assert result.returncode == 0, result.stderr
    notebook = json.loads(output.read_text())
    text = "".join("".join(o.get("text", "")) for cell in notebook["cells"] for o in cell.get("outputs", []))
    assert f"Galaxy checkout {root}" in text and "State: up-to-date" in text
    assert graph.heads("gxy")[0] in text


# -- what cannot be driven, and checkouts without everything they need ----------------------


def test_without_a_virtualenv_the_installed_packages_fill_in_and_are_named_once(tmp_path):
    root = make_tree(RELEASES["25.0"], tmp_path / "galaxy")
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
