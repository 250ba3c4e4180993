"""Static lint for Galaxy revision files (``python -m runbooks lint PATH...``).

Files are parsed with ``ast``, never imported. The rules and their reasons live in
``runbooks.lint.rules``; this module reads files, adds the checks that need the revision
graph (is the new revision on top of the current head?), and calibrates the rules on
Galaxy's own revisions (``calibrate`` / ``render_calibration_markdown``).
"""

from __future__ import annotations

import ast
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.code.revisions import RevisionGraph
from runbooks.errors import UsageError
from runbooks.lint.rules import BIG_TABLES, RULES, Finding, RevisionSource, check_source, finding

__all__ = [
    "BIG_TABLES",
    "RULES",
    "CalibrationReport",
    "Finding",
    "calibrate",
    "exit_code",
    "format_text",
    "lint_file",
    "lint_paths",
    "render_calibration_markdown",
    "results_to_json",
]

PathLike = str | os.PathLike
GRAPH_RULES = ("not-current-head", "duplicate-revision-id")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


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
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        return [
            finding(
                "not-python",
                0,
                f"the file is not UTF-8 text (byte {error.start}): not a Python file",
            )
        ]
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        return [finding("not-python", error.lineno or 0, f"not valid Python: {error.msg}")]
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, absurd nesting
        return [finding("not-python", 0, f"not valid Python: {error}")]
    source = RevisionSource(path, text, tree)
    revision, revision_line = source.literal("revision")
    down_revision, down_line = source.literal("down_revision")
    if not isinstance(revision, str) or not revision or not down_line:
        missing = "revision" if not isinstance(revision, str) or not revision else "down_revision"
        return [
            finding(
                "not-a-revision",
                revision_line,
                f"no module-level `{missing} = ...` literal",
            )
        ]
    findings = check_source(source)
    if graph is not None:
        findings.extend(_graph_findings(path, revision, revision_line, down_revision, down_line, graph))
    return sorted(findings, key=lambda f: (f.line, SEVERITY_ORDER.get(f.severity, 9), f.rule))


def lint_paths(paths: Iterable[PathLike], graph: RevisionGraph | None = None) -> dict[Path, list[Finding]]:
    """Findings per file; a directory stands for the ``*.py`` files directly in it."""
    results: dict[Path, list[Finding]] = {}
    for path in _expand(paths):
        results[path] = lint_file(path, graph)
    return results


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


def _parents(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _graph_findings(
    path: Path,
    revision: str,
    revision_line: int,
    down_revision,
    down_line: int,
    graph: RevisionGraph,
) -> Iterator[Finding]:
    existing = graph.revisions.get(revision)
    if existing is not None and Path(existing.path).resolve() == path.resolve():
        # Already part of the graph: only complain when the branch has split into several heads.
        heads = graph.heads(existing.branch)
        if len(heads) > 1 and revision in heads:
            yield finding(
                "not-current-head",
                down_line,
                f"the {existing.branch} branch has {len(heads)} heads ({', '.join(heads)}) and this revision is one "
                "of them: Galaxy stops with 'Multiple heads are present'",
            )
        return
    if existing is not None:
        yield finding(
            "duplicate-revision-id",
            revision_line,
            f"revision {revision!r} is already defined by {existing.path.name}",
        )
    parents = _parents(down_revision)
    known = [p for p in parents if p in graph.revisions]
    branch = graph.branch_of(known[0]) if known else ("tsi" if "versions_tsi" in path.parts else "gxy")
    heads = graph.heads(branch)
    head_text = ", ".join(repr(h) for h in heads) or "none"
    fix = (
        f"set down_revision = {heads[0]!r} (and 'Revises: {heads[0]}' in the docstring), "
        "or create the revision again on an up-to-date checkout"
        if len(heads) == 1
        else f"the {branch} branch already has several heads ({head_text}): merge them first"
    )
    if not parents:
        message = f"down_revision is None: this new revision starts a second base instead of following {head_text}"
    elif len(known) < len(parents):
        unknown = ", ".join(repr(p) for p in parents if p not in graph.revisions)
        message = f"down_revision {unknown} is not a revision of this Galaxy code (current {branch} head: {head_text})"
    elif set(parents) != set(heads):
        message = (
            f"down_revision {', '.join(repr(p) for p in parents)} is not the current {branch} head ({head_text}): "
            f"this revision would add a second {branch} head"
        )
    else:
        return
    yield finding("not-current-head", down_line, message, fix)


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


# -- calibration on Galaxy's own revisions ---------------------------------------------


@dataclass
class CalibrationReport:
    """What the rules say about a directory of existing revisions (Galaxy's own)."""

    label: str
    files: list[str]
    findings: dict[str, list[Finding]]  # file name -> findings (files with findings only)
    rule_counts: dict[str, int]  # rule -> findings, every rule of RULES (zeros included)
    files_per_rule: dict[str, list[str]]  # rule -> file names, every rule of RULES
    worst_files: list[tuple[str, int]] = field(default_factory=list)  # most findings first

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "files": self.files,
            "rule_counts": self.rule_counts,
            "files_per_rule": self.files_per_rule,
            "worst_files": [list(item) for item in self.worst_files],
            "findings": {name: [f.to_dict() for f in fs] for name, fs in self.findings.items()},
        }


def calibrate(versions_dir: PathLike, label: str | None = None, worst: int = 10) -> CalibrationReport:
    """Lint every revision in ``versions_dir`` (no graph rules: these revisions are the graph)."""
    versions_dir = Path(versions_dir)
    results = lint_paths([versions_dir])
    findings = {path.name: fs for path, fs in results.items() if fs}
    rule_counts = {rule: 0 for rule in RULES}
    files_per_rule: dict[str, list[str]] = {rule: [] for rule in RULES}
    for name, fs in sorted(findings.items()):
        for f in fs:
            rule_counts[f.rule] = rule_counts.get(f.rule, 0) + 1
            if name not in files_per_rule.setdefault(f.rule, []):
                files_per_rule[f.rule].append(name)
    ranked = sorted(findings.items(), key=lambda item: (-len(item[1]), item[0]))
    return CalibrationReport(
        label=label or versions_dir.name,
        files=sorted(path.name for path in results),
        findings=findings,
        rule_counts=rule_counts,
        files_per_rule=files_per_rule,
        worst_files=[(name, len(fs)) for name, fs in ranked[:worst]],
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_calibration_markdown(report: CalibrationReport, title: str = "Revision lint rules") -> str:
    """A Markdown page: the rule table with Galaxy's counts, the worst files, each rule explained.

    A pure function of ``report`` (no I/O, no clock, no absolute paths), so the docs can
    generate the page at build time.
    """
    total_files = len(report.files)
    flagged = len(report.findings)
    intro = (
        "`python -m runbooks lint PATH...` reads revision files with `ast` (it never imports "
        "them) and reports the problems below. Each rule has a stable id. To see how often a "
        "rule fires on code that works, the rules are run on Galaxy's own revisions: the counts "
        f"below come from the {total_files} revision files of `{report.label}`, where {flagged} "
        "file(s) get at least one finding. A rule that fired on every file would be noise; one "
        "that never fires there still has to fire on the bad examples in the test suite."
    )
    out = [
        f"# {title}",
        "",
        intro,
        "",
        "| Rule | Severity | Findings | Files | Checks |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for rule_id, rule in RULES.items():
        if rule_id in GRAPH_RULES:
            counts = ("n/a", "n/a")
        else:
            counts = (
                str(report.rule_counts.get(rule_id, 0)),
                str(len(report.files_per_rule.get(rule_id, []))),
            )
        out.append(f"| [`{rule_id}`](#{rule_id}) | {rule.severity} | {counts[0]} | {counts[1]} | {_md(rule.title)} |")
    out += [
        "",
        (
            "`n/a`: the rule compares a new revision with the revision graph, so it does not "
            "apply to revisions that are already part of it."
        ),
        "",
        "## Files with the most findings",
        "",
    ]
    if report.worst_files:
        out += ["| File | Findings | Rules |", "| --- | ---: | --- |"]
        for name, count in report.worst_files:
            rules = sorted({f.rule for f in report.findings.get(name, [])})
            out.append(f"| `{name}` | {count} | {', '.join(f'`{r}`' for r in rules)} |")
    else:
        out.append("No file has a finding.")
    out += ["", "## The rules", ""]
    for rule_id, rule in RULES.items():
        out += [
            f"### `{rule_id}`",
            "",
            f"**{rule.title}** ({rule.severity}).",
            "",
        ]
        out += [f"Why: {rule.why}", "", f"Fix: {rule.fix}", ""]
        if rule_id in (
            "index-locks-table",
            "foreign-key-locks-table",
            "unbatched-data-change",
        ):
            out.append(
                "Large tables: "
                + ", ".join(f"`{table}` ({reason})" for table, reason in BIG_TABLES.items())
                + ". A table created by the same revision is new and empty, so it is never large."
            )
            out.append("")
        files = report.files_per_rule.get(rule_id, [])
        if rule_id not in GRAPH_RULES and files:
            shown = ", ".join(f"`{name}`" for name in files[:12])
            more = f" and {len(files) - 12} more" if len(files) > 12 else ""
            out += [f"In `{report.label}`: {shown}{more}.", ""]
    out += [
        "## SQL linting with squawk",
        "",
        (
            "The Python lint cannot see what SQL a revision finally sends. "
            "`runbooks.lint.squawk.squawk_sql()` runs [squawk](https://squawkhq.com) on SQL text (for "
            "example the output of `manage_db.sh upgrade --sql`, which is incomplete: ALTER-type "
            "helpers emit nothing offline) with the rules that matter for a live Galaxy, and "
            "without the style rules (`prefer-bigint-over-int`, `prefer-text-field`, "
            "`prefer-timestamptz`, ...) that would flag most of Galaxy's schema."
        ),
        "",
    ]
    return "\n".join(out)
