"""Static lint for Galaxy revision files (``python -m runbooks lint PATH...``).

Files are parsed with ``ast``, never imported. Each file goes through the rules of
``runbooks.lint.registry``: the file rules (is it Python? a revision?), the content rules,
and, given the revision graph, the graph rules (is the new revision on top of the current
head?). Calibration on Galaxy's own revisions is in ``runbooks.lint.calibration``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from runbooks.code.revisions import RevisionGraph
from runbooks.errors import UsageError
from runbooks.lint.catalogue import SEVERITY_ORDER, Finding
from runbooks.lint.registry import CONTENT_RULES, GRAPH_RULES
from runbooks.lint.review import Review
from runbooks.lint.rules import not_a_revision, not_python

__all__ = ["Finding", "exit_code", "format_text", "lint_file", "lint_paths", "results_to_json"]

PathLike = str | os.PathLike


# -- linting files -------------------------------------------------------------------


def lint_file(path: PathLike, graph: RevisionGraph | None = None) -> list[Finding]:
    """Findings for one revision file, sorted by line.

    With ``graph`` (``RevisionGraph.load(env)``) a revision that is not yet part of the
    graph is also checked against the current head of its branch.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a directory: pass revision files, or use lint_paths() for a directory")
    if not path.is_file():
        raise UsageError(f"{path}: no such file: pass the path of a revision file (.py) or a versions directory")
    source, findings = not_python.read(path)
    if source is None:
        return findings
    findings = list(not_a_revision.check(source))
    if findings:
        return findings
    review = Review(source)
    for rule in CONTENT_RULES:
        findings.extend(rule.check(review))
    if graph is not None:
        for graph_rule in GRAPH_RULES:
            findings.extend(graph_rule.check(source, graph))
    return sorted(findings, key=lambda f: (f.line, SEVERITY_ORDER.get(f.severity, 9), f.rule))


def lint_paths(paths: Iterable[PathLike], graph: RevisionGraph | None = None) -> dict[Path, list[Finding]]:
    """Findings per file; a directory stands for the ``*.py`` files directly in it."""
    return {path: lint_file(path, graph) for path in _expand(paths)}


def _expand(paths: Iterable[PathLike]) -> Iterator[Path]:
    given = [Path(p) for p in paths]
    if not given:
        raise UsageError("nothing to lint: pass revision files or a versions directory")
    for path in given:
        if path.is_dir():
            files = sorted(p for p in path.glob("*.py") if p.is_file())
            if not files:
                raise UsageError(f"{path} holds no .py files: pass revision files or a versions directory")
            yield from files
        elif path.is_file():
            yield path
        else:
            raise UsageError(f"{path}: no such file: pass the path of a revision file (.py) or a versions directory")


# -- output for the CLI ----------------------------------------------------------------


def exit_code(results: dict[Path, list[Finding]], strict: bool = False) -> int:
    """1 when a finding of severity error is present (any finding with ``strict``), else 0."""
    problems = (f for findings in results.values() for f in findings if strict or f.severity == "error")
    return 1 if any(True for _ in problems) else 0


def _summary(results: dict[Path, list[Finding]]) -> dict[str, int]:
    counts = Counter(f.severity for findings in results.values() for f in findings)
    return {
        "files": len(results),
        "errors": counts["error"],
        "warnings": counts["warning"],
        "info": counts["info"],
    }


def format_text(results: dict[Path, list[Finding]]) -> str:
    """Human-readable findings: ``path:line: severity [rule] message`` plus the fix."""
    lines = []
    for path, findings in results.items():
        for f in findings:
            lines.append(f"{path}:{f.line}: {f.severity} [{f.rule}] {f.message}")
            lines.append(f"    fix: {f.fix}")
    summary = _summary(results)
    lines.append(
        f"{summary['files']} file(s) checked: {summary['errors']} error(s), {summary['warnings']} warning(s)"
        + (f", {summary['info']} info" if summary["info"] else "")
    )
    return "\n".join(lines)


def results_to_json(results: dict[Path, list[Finding]]) -> dict:
    """``{"files": {path: [finding, ...]}, "summary": {...}}`` (JSON-serializable)."""
    return {
        "files": {str(path): [f.to_dict() for f in findings] for path, findings in results.items()},
        "summary": _summary(results),
    }
