"""Reference pages generated from the installed Galaxy code at build time (never typed by hand)."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from docs_build.generated.graph import breakable
from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.paths import PROJECT_ROOT

RELEASE_FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "releases" / "manifest.json"


def release_heads(graph: RevisionGraph) -> dict[str, tuple[str, str]]:
    """``{tag: (galaxy-data version, gxy revision its own code ends at)}`` where that is known.

    Known for the installed galaxy-data (its gxy head) and for the releases whose own code
    initialized a database in the test fixtures (``tests/fixtures/releases``).
    """
    heads: dict[str, tuple[str, str]] = {}
    if RELEASE_FIXTURES.is_file():
        manifest = json.loads(RELEASE_FIXTURES.read_text(encoding="utf-8"))
        for version, entry in manifest.get("releases", {}).items():
            rows = entry.get("sqlite", {}).get("alembic_version", [])
            gxy = [rev for rev in rows if graph.branch_of(rev) == "gxy"]
            if gxy:
                heads[".".join(version.split(".")[:2])] = (version, gxy[0])
    installed = metadata.version("galaxy-data")
    heads[".".join(installed.split(".")[:2])] = (installed, graph.heads("gxy")[0])
    return heads


def upgrade_length(graph: RevisionGraph, rev_id: str) -> int:
    """How many gxy revisions an upgrade from ``rev_id`` to the head runs: every revision below the
    head that is not at or below ``rev_id`` (side branches of merges included, not only descendants)."""
    return len(graph.ancestors(graph.heads("gxy")) - graph.ancestors([rev_id]))


def release_tags_page(graph: RevisionGraph) -> str:
    heads = release_heads(graph)
    lines = [
        "# Release tags",
        "",
        "Generated at build time from `REVISION_TAGS` in the installed Galaxy's `dbrevisions.py`.",
        "A tag names the gxy revision a release's database is at; `22.01` is `base` (no Alembic",
        "revision: the SQLAlchemy Migrate era). `manage_db.sh upgrade 25.0` and",
        "`manage_db.sh upgrade release_25.0` both mean that revision.",
        "",
        "*Release's head* compares the tag with the last gxy revision a release's own code ships:",
        f"known for the installed galaxy-data ({metadata.version('galaxy-data')}) and for the releases",
        "whose own code initialized a database in this project's fixtures",
        "(`tests/fixtures/releases/`). A tag that is not the head lags its release: a database",
        "made by that release's code is past the tag.",
        "",
        "| tag | revision | message | release's head | revisions an upgrade to head runs |",
        "| --- | --- | --- | --- | --- |",
    ]
    for tag, rev_id in graph.release_tags.items():
        if tag in heads:
            version, head = heads[tag]
            if head == rev_id:
                is_head = f"yes (galaxy-data {version})"
            else:
                between = len(graph.ancestors([head]) - graph.ancestors([rev_id])) if rev_id != "base" else "?"
                is_head = f"no: galaxy-data {version} ends at `{head}`, {between} later"
        else:
            is_head = "not determined here"
        if rev_id == "base":
            lines.append(f"| `{tag}` | `base` | (SQLAlchemy Migrate version 180) | {is_head} | all |")
            continue
        revision = graph.revisions.get(rev_id)
        message = breakable(revision.message) if revision else "(not in this code)"
        later = upgrade_length(graph, rev_id) if revision else "?"
        lines.append(f"| `{tag}` | `{rev_id}` | {message} | {is_head} | {later} |")
    return "\n".join(lines) + "\n"


def lint_rules_page() -> str:
    from runbooks.lint.calibration import calibrate, render_calibration_markdown

    env = GalaxyEnv.from_package()
    report = calibrate(env.versions_dir("gxy"), label="galaxy-data " + metadata.version("galaxy-data") + " gxy")
    return render_calibration_markdown(report)


def doctor_codes_page() -> str:
    """An index of the codes by severity, then one section per code: what it means and its fix."""
    from runbooks.findings.catalogue import CODES

    lines = [
        "# Doctor codes",
        "",
        "Generated at build time from `runbooks.doctor`: every finding `galaxy-migrations troubleshoot`",
        "(from a clone: `.venv/bin/python -m runbooks troubleshoot`) can report, with its stable code.",
        "See [Troubleshoot](../tasks/troubleshoot.md) for the task.",
        "",
    ]
    for severity in dict.fromkeys(entry.severity for entry in CODES):
        codes = ", ".join(f"[`{e.code}`](#{e.code})" for e in CODES if e.severity == severity)
        lines.append(f"- **{severity}**: {codes}")
    for entry in CODES:
        summary, fix = (" ".join(str(text).split()) for text in (entry.summary, entry.fix))
        lines += ["", f"## `{entry.code}` {{ #{entry.code} }}", "", f"**{entry.severity}**: {summary}", ""]
        lines.append(f"**Fix**: {fix}")
    return "\n".join(lines) + "\n"


def generate_pages(docs_dir: Path | None = None) -> dict[str, str]:
    """``{src_uri: markdown}`` for every generated reference page.

    A page that exists by hand in ``docs_dir`` is not generated (the hand-written one wins).
    """
    import logging

    from docs_build.generated import galaxy_pages as docs_galaxy
    from docs_build.generated.galaxy_scripts import scripts_page
    from docs_build.generated.graph import graph_page

    # Galaxy's migration modules call logging.basicConfig(level=DEBUG) on import: keep the
    # build's logging as it was (otherwise every library logs at DEBUG into the build output).
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        pages = _pages(docs_galaxy, scripts_page, graph_page)
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
    pages["reference/doctor-codes.md"] = doctor_codes_page()
    if docs_dir is not None:
        pages = {uri: text for uri, text in pages.items() if not (Path(docs_dir) / uri).exists()}
    return pages


def _pages(docs_galaxy, scripts_page, graph_page) -> dict[str, str]:
    graph = RevisionGraph.load(GalaxyEnv.from_package())
    return {
        "reference/release-tags.md": release_tags_page(graph),
        "reference/cli.md": cli_page(),
        "reference/util-helpers.md": docs_galaxy.util_page(),
        "reference/exceptions.md": docs_galaxy.exceptions_page(),
        "reference/scripts.md": scripts_page(),
        "reference/revision-graph.md": graph_page(graph),
        "reference/lint-rules.md": lint_rules_page(),
    }


def cli_page() -> str:
    """This project's command line, from its own argument parser, and the status states."""
    import argparse

    from runbooks.cli.main import TASKS, build_parser
    from runbooks.tasks.status import STATES

    parser = build_parser()
    lines = ["# Command line", "", "Generated from `runbooks.cli.main` at build time.", "", "```text"]
    lines += ["python -m runbooks            # the task menu", "```", ""]
    lines += ["| task | summary |", "| --- | --- |"]
    lines += [f"| `{name}` | {summary} |" for name, _, summary in TASKS]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        lines += ["", f"## `{name}`", "", "```text", sub.format_usage().strip(), "```", ""]
        lines += ["| option | help |", "| --- | --- |"]
        for action in sub._actions:
            if action.help == argparse.SUPPRESS or "-h" in action.option_strings:
                continue
            flag = ", ".join(action.option_strings) or action.metavar or action.dest
            lines.append(f"| `{flag}` | {action.help or ''} |")
    lines += ["", "## Status states", "", "`status --json` reports one of these states:", ""]
    lines += [f"- `{state}`" for state in STATES]
    lines += [
        "",
        "## Exit codes",
        "",
        "- `0`: done (`status`: the database is up to date)",
        "- `1`: the task ran and the database has a problem (`status`: any other state)",
        "- `2`: the task could not run (bad input); one line on stderr says what and what to do",
    ]
    return "\n".join(lines) + "\n"
