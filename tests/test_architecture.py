"""The tree tells the architecture: layers that never import upwards, no cycles, small modules,
and every ``runbooks`` import written anywhere in the project resolves."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "runbooks"
MAX_LINES = 400
# Layers that must run without Galaxy's code: they never import the worker side or galaxy.model.
GALAXY_FREE = ("runbooks.code", "runbooks.database")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, top_level_only: bool = False) -> list[tuple[str, list[str]]]:
    """(module, names) for each import in the file; relative imports do not occur here."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


@pytest.mark.parametrize("layer", GALAXY_FREE)
def test_code_and_database_never_import_galaxy(layer):
    offenders = []
    for name, path in modules().items():
        if name != layer and not name.startswith(layer + "."):
            continue
        for module, _ in imports(path):
            if module == "galaxy" or module.startswith(("galaxy.", "runbooks.galaxy")):
                offenders.append(f"{name} imports {module}")
    assert offenders == []


def test_no_import_cycle():
    known = modules()
    graph = {name: set() for name in known}
    for name, path in known.items():
        for module, names in imports(path, top_level_only=True):
            # ``from package import submodule`` depends on the submodule, not on the package's body
            submodules = {f"{module}.{n}" for n in names} & known.keys()
            targets = submodules or {module}
            graph[name] |= {t for t in targets if t in known and t != name}
    cycles = []

    def visit(node, stack, done):
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, stack + [node], done)
        done.add(node)

    done: set[str] = set()
    for name in sorted(graph):
        visit(name, [], done)
    assert cycles == []


def test_no_module_over_the_line_limit():
    long = {}
    for folder in (PACKAGE, PROJECT / "docs_build"):
        for path in folder.rglob("*.py"):
            count = len(path.read_text().splitlines())
            if count > MAX_LINES:
                long[str(path.relative_to(PROJECT))] = count
    assert long == {}


IMPORT_LINE = re.compile(r"from (runbooks(?:\.\w+)*) import ([\w, ()]+)|import (runbooks(?:\.\w+)+)")


def written_imports() -> set[tuple[str, str]]:
    """Every ``runbooks`` import in the package, tests, bench, docs build, notebooks and pages."""
    texts = []
    for folder, pattern in (("runbooks", "*.py"), ("tests", "*.py"), ("bench", "*.py"), ("docs_build", "*.py")):
        texts += [p.read_text() for p in (PROJECT / folder).rglob(pattern)]
    texts += [p.read_text() for p in (PROJECT / "docs").rglob("*.md")]
    for notebook in (PROJECT / "notebooks").glob("*.ipynb"):
        texts += ["".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"]]
    found = set()
    for text in texts:
        for match in IMPORT_LINE.finditer(text):
            if match[3]:
                found.add((match[3], ""))
                continue
            for name in match[2].replace("(", "").replace(")", "").split(","):
                if name.strip():
                    found.add((match[1], name.strip().split(" as ")[0]))
    return found


def test_every_runbooks_import_resolves():
    broken = []
    for module, name in sorted(written_imports()):
        try:
            imported = importlib.import_module(module)
        except ImportError as error:
            broken.append(f"{module}: {error}")
            continue
        if name and not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                broken.append(f"from {module} import {name}")
    assert broken == []
