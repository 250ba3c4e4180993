"""Small readings of Python syntax trees, shared by everything that reads revision files."""

from __future__ import annotations

import ast
from collections.abc import Iterator

Function = ast.FunctionDef | ast.AsyncFunctionDef


def assignments(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Simple ``name = value`` assignments in a block and its nested blocks (last one wins)."""
    stack = list(body)
    ordered: list[ast.stmt] = []
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        ordered.append(node)
        stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    names: dict[str, ast.AST] = {}
    for node in sorted(ordered, key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(node, ast.Assign):
            names.update((target.id, node.value) for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            names[node.target.id] = node.value
    return names


def callee_name(call: ast.Call) -> str | None:
    """``f`` for ``f(...)`` and ``x.f(...)``."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def without_docstring(function: Function) -> list[ast.stmt]:
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body


def is_only_pass(body: list[ast.stmt]) -> bool:
    """A body that does nothing: ``pass``, ``...`` and string literals only."""
    return all(
        isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        for node in body
    )


def chain_names(node: ast.AST | None) -> set[str]:
    """Method and function names along a call chain such as ``t.update().where(...).values(...)``."""
    names: set[str] = set()
    while node is not None:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.add(node.id)
            node = None
        else:
            node = None
    return names


def walk_no_defs(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk that does not enter nested functions, lambdas or classes."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)
