"""The docs execution step: a content-hash cache, so a warm build executes no runbook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from docs_build.settings import DOCS_BUILD_DIR_ENV
from docs_build.site_build import execution
from docs_build.site_build.pipeline import _fence, notebook_markdown

from docs_site import PROJECT, built_site


@pytest.fixture
def keyed(tmp_path, monkeypatch):
    """``status``'s cache key over copies of its inputs that a test may change."""
    notebook = tmp_path / "status.ipynb"
    shutil.copyfile(execution.notebook_path("status"), notebook)
    library = tmp_path / "runbooks"
    library.mkdir()
    (library / "status.py").write_text("STATES = ()\n")
    recipe = tmp_path / "samples.py"
    recipe.write_text("def make_sample(): ...\n")
    monkeypatch.setattr(execution, "notebook_path", lambda task: notebook)
    monkeypatch.setattr(execution, "LIBRARY", library)
    monkeypatch.setattr(execution, "SAMPLE_RECIPE", recipe)
    return {"notebook": notebook, "library": library / "status.py", "recipe": recipe}


@pytest.mark.parametrize("changed", ["notebook", "library", "recipe"])
def test_cache_key_follows_the_notebook_the_library_and_the_sample_recipe(keyed, changed):
    before = execution.cache_key("status")
    assert execution.cache_key("status") == before  # stable while nothing changes
    keyed[changed].write_text(keyed[changed].read_text() + "\n# changed\n")
    assert execution.cache_key("status") != before


def test_cache_key_follows_the_galaxy_version(keyed, monkeypatch):
    before = execution.cache_key("status")
    real = execution.metadata.version
    monkeypatch.setattr(execution.metadata, "version", lambda name: "99.0" if name == "galaxy-data" else real(name))
    assert execution.cache_key("status") != before


def test_a_warm_run_executes_no_runbook(monkeypatch):
    built_site()  # the session's build filled the shared cache (or found it full)

    def must_not_run(task, entry):
        raise AssertionError(f"{task} executed although it is cached")

    monkeypatch.setattr(execution, "_execute_into", must_not_run)
    lines = []
    runs = execution.execute_all(say=lines.append)
    assert [run.task for run in runs] == execution.available_tasks()
    assert all(run.cached for run in runs) and len(lines) == len(runs)
    assert all("from the cache" in line for line in lines)


def test_the_step_runs_alone_and_says_one_line_per_runbook(tmp_path):
    built_site()
    result = subprocess.run(
        [sys.executable, "-m", "docs_build"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**os.environ, DOCS_BUILD_DIR_ENV: str(tmp_path / "build")},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for task in execution.available_tasks():
        assert f"runbook {task}: from the cache" in result.stdout
    assert "(0 runbook(s) executed" in result.stdout
    pages = tmp_path / "build" / "pages"
    assert (pages / "runbooks" / "status.md").is_file() and (pages / "runbooks" / "status" / "status.ipynb").is_file()
    assert (pages / "reference" / "cli.md").is_file()


def test_contributing_page_shows_each_runbooks_last_execution():
    from docs_site import page_path

    text = page_path(built_site(), "contributing.md").read_text(encoding="utf-8")
    for task in execution.available_tasks():
        assert f"<code>{task}</code>" in text
    assert "from the cache" in text or "executed" in text


def test_outputs_never_close_their_fence_early():
    assert _fence("a ``` b\n````", "text").startswith("`````text\n")
    page = notebook_markdown(execution.notebook_path("status").read_text(encoding="utf-8"), "status.ipynb")
    assert page.startswith("---\nrunbook_download: status.ipynb\n---")
    assert "\n## Step 1: choose the database and the Galaxy code" in page  # headings stay Markdown: the TOC


def test_cached_executions_hold_no_path_of_the_clone_that_made_them():
    """The cache is the user's, shared by every clone: an entry made here must read the same from another."""
    built_site()
    for task in execution.available_tasks():
        text = execution.executed(task).notebook.read_text(encoding="utf-8")
        for path in (str(PROJECT), sys.prefix, str(execution.CACHE_DIR)):
            assert path not in text, f"{task}: {path}"


def test_pruning_keeps_the_newest_entries_and_never_a_build_in_progress(tmp_path, monkeypatch):
    monkeypatch.setattr(execution, "CACHE_DIR", tmp_path)
    folder = tmp_path / "status"
    names = ["a" * 20, "b" * 20, "c" * 20, "d" * 20]  # oldest first
    for age, name in enumerate(reversed(names)):
        (folder / name).mkdir(parents=True)
        os.utime(folder / name, (1e9, 1e9 + 1000 - age))
    running = folder / f"{'e' * 20}-x1y2"  # another clone executing now
    running.mkdir()
    killed = folder / f"{'f' * 20}-z3"
    killed.mkdir()
    os.utime(killed, (1e9, 1e9))  # left by a build killed long ago
    execution._prune("status", keep=names[0])
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == sorted([names[0], names[3], names[2], running.name])  # the current one and the two newest others
