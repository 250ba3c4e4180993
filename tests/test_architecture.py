"""The tree tells the architecture: layers that never import upwards, no cycles, small modules,
every environment variable named in one settings module, and every ``runbooks`` import written
anywhere in the project resolves."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

from runbooks.settings import PYTHON_ENV_PREFIX

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "runbooks"
MAX_LINES = 400
# The layer diagram, lowest first: a module may import its own layer and the layers before it, never
# one after it (function-level imports count). The core is the package's loose top-level modules.
LAYERS = (
    "core",  # errors, settings, paths, process lifetime, progress, environment changes
    "database",  # the user's database, without Galaxy
    "code",  # Galaxy's code on disk, read (never imported)
    "galaxy",  # Galaxy's code run for real, in a worker
    "lint",  # revision-file rules
    "findings",  # the catalogue of problems and the report that gathers them
    "tasks",  # status, upgrade/downgrade, rehearsal, samples, create, ...
    "doctor",  # the checks that examine a database with the tasks
    "testing",  # databases in named broken states, for tests, runbooks and bench
    "cli",  # the command line and what both faces print (the notebooks stand beside it)
)
MAX_LOOSE_MODULES = 8
# Layers that must run without Galaxy's code: they never import the worker side or galaxy.model.
GALAXY_FREE = ("runbooks.code", "runbooks.database", "runbooks.lint")


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


def layer_of(module: str) -> str | None:
    """The layer of a ``runbooks`` module: its subpackage, or the core for the loose top-level ones."""
    parts = module.split(".")
    if parts[0] != "runbooks":
        return None
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "cli" if parts[1:] == ["__main__"] else "core"


def test_every_subpackage_is_a_layer_and_the_core_is_small():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    loose = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert subpackages - set(LAYERS) == set(), "a subpackage that is no layer: add it to LAYERS"
    assert len(loose) <= MAX_LOOSE_MODULES, f"the core is {loose}: move a task or a face to its layer"


def test_no_module_imports_a_higher_layer():
    rank = {name: index for index, name in enumerate(LAYERS)}
    upward = []
    for name, path in modules().items():
        own = layer_of(name)
        for module, names in imports(path):
            targets = [f"{module}.{n}" for n in names] if module == "runbooks" else [module]
            for target in targets:
                other = layer_of(target)
                if other and other != own and rank[other] > rank[own]:
                    upward.append(f"{name} ({own}) imports {target} ({other})")
    assert upward == []


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


SETTINGS_MODULES = (PACKAGE / "settings.py", PROJECT / "docs_build" / "settings.py")
VARIABLE = re.compile(r"\bRUNBOOKS?_[A-Z0-9_]*[A-Z0-9]\b")


def settings_names() -> dict[str, str]:
    """Every variable named in a settings module: its value (the variable) -> its constant."""
    named = {}
    for path in SETTINGS_MODULES:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                named[node.value.value] = node.targets[0].id
    return named


def project_files(*suffixes: str) -> list[Path]:
    skip = {".venv", "site", "build", ".runbooks", "node_modules"}
    return [p for p in PROJECT.rglob("*") if p.suffix in suffixes and not skip & set(p.relative_to(PROJECT).parts)] + [
        PROJECT / ".ci" / "run"
    ]


def test_environment_variables_are_spelled_only_in_the_settings_modules():
    named = settings_names()
    spelled = []
    for path in project_files(".py"):
        if path in SETTINGS_MODULES or path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in named or VARIABLE.fullmatch(node.value):
                    spelled.append(f"{path.relative_to(PROJECT)}:{node.lineno} {node.value!r}")
    assert spelled == [], "use the constant from runbooks/settings.py or docs_build/settings.py"


def test_every_variable_the_project_mentions_is_one_of_the_settings():
    """Docs, README, notebooks, workflows and messages name only variables the settings define, under
    one prefix: a name one letter off (RUNBOOKS_ for RUNBOOK_) is exactly the bug this catches."""
    named = settings_names()
    prefix = PYTHON_ENV_PREFIX  # RUNBOOK_PYTHON39, ... one variable per Python version
    unknown = set()
    for path in project_files(".py", ".md", ".ipynb", ".yml", ".yaml", ".toml"):
        for token in VARIABLE.findall(path.read_text()):
            if token not in named and not re.fullmatch(prefix + r"\d+", token):
                unknown.add(f"{path.relative_to(PROJECT)}: {token}")
    assert sorted(unknown) == []
