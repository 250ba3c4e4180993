"""The lint rules calibrated on Galaxy's own revisions, and the docs page that shows it.

``calibrate`` lints a versions directory (no graph rules: those revisions are the graph);
``render_calibration_markdown`` turns the report into ``reference/lint-rules.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runbooks.lint.catalogue import BIG_TABLES, Finding
from runbooks.lint.command import PathLike, lint_paths
from runbooks.lint.registry import GRAPH_RULE_IDS, RULES

__all__ = ["CalibrationReport", "calibrate", "render_calibration_markdown"]


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
        if rule_id in GRAPH_RULE_IDS:
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
        if rule_id not in GRAPH_RULE_IDS and files:
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
