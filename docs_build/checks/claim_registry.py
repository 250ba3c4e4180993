"""The registry of claim checks and what they share (see ``docs_build/checks/claims.py``).

Each check is a small function (pytest-alembic style) asserting one fact against the installed
Galaxy code, Alembic, or an experiment with Galaxy's own scripts (``docs_build/checks/experiments.py``).
The docs hook runs the checks each page names and fails the build when one is missing or
fails; ``tests/test_claims.py`` runs them all without building the site.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cache
from pathlib import Path

CHECKS: dict[str, Callable[[], None]] = {}


def check(func: Callable[[], None]) -> Callable[[], None]:
    CHECKS[func.__name__] = func
    return func


@cache
def _env():
    from runbooks.code.environment import GalaxyEnv

    return GalaxyEnv.from_package()


@cache
def _graph():
    from runbooks.code.revisions import RevisionGraph

    return RevisionGraph.load(_env())


def _migrations_dir() -> Path:
    return _env().script_location.parent


def _source(name: str) -> str:
    return (_migrations_dir() / name).read_text(encoding="utf-8")


def _revision_files(branch: str = "gxy") -> list[Path]:
    return sorted(_env().versions_dir(branch).glob("*.py"))


def _function_source(module_text: str, name: str) -> str:
    tree = ast.parse(module_text)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.get_source_segment(module_text, node)


def _downgrade_does_nothing(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade")
    body = [s for s in func.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return all(isinstance(s, ast.Pass) for s in body)
