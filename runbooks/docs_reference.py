"""Reference pages generated from the installed Galaxy code at build time (never typed by hand)."""

from __future__ import annotations

from runbooks.galaxy_env import GalaxyEnv
from runbooks.revisions import RevisionGraph


def release_tags_page(graph: RevisionGraph) -> str:
    lines = [
        "# Release tags",
        "",
        "Generated at build time from `REVISION_TAGS` in the installed Galaxy's `dbrevisions.py`.",
        "A tag names the gxy revision a release's database is at; `22.01` is `base` (no Alembic",
        "revision: the SQLAlchemy Migrate era). *Release head* says whether the tagged revision is",
        "still a head of the code; a tag that is not the newest revision of its release lags it.",
        "",
        "| tag | revision | message | later revisions in this code |",
        "| --- | --- | --- | --- |",
    ]
    for tag, rev_id in graph.release_tags.items():
        if rev_id == "base":
            lines.append(f"| `{tag}` | `base` | (SQLAlchemy Migrate version 180) | all |")
            continue
        revision = graph.revisions.get(rev_id)
        message = revision.message if revision else "(not in this code)"
        later = len(graph.descendants(rev_id)) if revision else "?"
        lines.append(f"| `{tag}` | `{rev_id}` | {message} | {later} |")
    return "\n".join(lines) + "\n"


def generate_pages() -> dict[str, str]:
    """``{src_uri: markdown}`` for every generated reference page."""
    graph = RevisionGraph.load(GalaxyEnv.from_package())
    return {"reference/release-tags.md": release_tags_page(graph), "reference/cli.md": cli_page()}


def cli_page() -> str:
    """This project's command line, from its own argument parser, and the status states."""
    import argparse

    from runbooks.cli import TASKS, build_parser
    from runbooks.status import STATES

    parser = build_parser()
    lines = ["# Command line", "", "Generated from `runbooks.cli` at build time.", "", "```text"]
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
