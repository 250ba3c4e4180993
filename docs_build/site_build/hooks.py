"""MkDocs hooks: the pages the execution step wrote, rendered; navigation and snippets from what exists.

``mkdocs build --strict`` alone does the whole job: ``on_config`` runs the execution step
(docs_build/site_build/pipeline.py, also ``python -m docs_build``), which executes every runbook against
a fresh sample database (papermill, cached by content in docs_build/site_build/execution.py) and writes
the runbook pages (nbconvert) and the generated reference into ``build/docs/pages/``. MkDocs
then only renders files. A failing notebook fails the build.
"""

from __future__ import annotations

import logging
import posixpath
import re
import shlex
import sys
from html import escape as html_escape
from pathlib import Path

# MkDocs loads hooks by path: make the project importable however `mkdocs` was started.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.structure.files import File, Files  # noqa: E402

# MkDocs puts sys.path back after loading a hook: load the package now, so docs_build.* imports
# made later, at build time, still find it.
import docs_build  # noqa: E402, F401
from docs_build.site_build.pipeline import BUILD_DIR, NOTEBOOK_PAGES_URI, PAGES_DIR, hide_build_paths, prepare  # noqa: E402, F401
from docs_build.site_build.quiet import keep_third_party_quiet  # noqa: E402
from runbooks.errors import RunbookError  # noqa: E402

log = logging.getLogger("mkdocs.hooks.runbooks")
keep_third_party_quiet()  # before Galaxy is imported: its import would turn every library's debug log on

_executed: list[str] = []
_generated: list[str] = []
_checked: dict[tuple, str | None] = {}  # (shown?, check name, values) -> None (passed) or why it failed


def on_config(config):
    try:
        made = prepare(Path(config.docs_dir), say=log.info)
    except RunbookError as error:
        raise PluginError(f"a runbook failed, so the build fails: {error}") from None
    _executed[:] = made["runbooks"]
    _generated[:] = made["reference"]
    check_runbook_claims()
    config.nav = build_nav(config.nav, Path(config.docs_dir), list(_executed), list(_generated))
    return config


class RunbookPage(File):
    """An executed runbook's page: the ``.ipynb`` URI pages link to, the Markdown the step wrote."""

    def is_documentation_page(self) -> bool:
        return True


def on_files(files: Files, config) -> Files:
    for task in _executed:
        page = RunbookPage(
            f"{NOTEBOOK_PAGES_URI}/{task}.ipynb", str(PAGES_DIR), config.site_dir, config.use_directory_urls
        )
        page.abs_src_path = str(PAGES_DIR / NOTEBOOK_PAGES_URI / f"{task}.md")
        files.append(page)
        download = f"{NOTEBOOK_PAGES_URI}/{task}/{task}.ipynb"  # beside the page's index.html
        files.append(File(download, str(PAGES_DIR), config.site_dir, config.use_directory_urls))
    for uri in _generated:
        files.append(File(uri, str(PAGES_DIR), config.site_dir, config.use_directory_urls))
    return files


# -- navigation and the home page's task table, from what exists -------------------------------
# Task pages and runbooks land one by one: the How-to, Tutorial and Runbooks sections and the
# home table list only what exists, so `mkdocs build --strict` never points at a missing page.

# The command on the pages: installed (pip/pipx, any directory), and from a clone without an activated venv.
INSTALLED = "galaxy-migrations"
CLONE = ".venv/bin/python -m runbooks"
TASK_ORDER = ("create", "upgrade", "downgrade", "status", "troubleshoot")
TASK_SUMMARIES = {
    "create": "write a new gxy revision from Galaxy's template, lint it, prove it on a sample",
    "upgrade": "move a database forward: both branches to head, a release, or a revision",
    "downgrade": "move a database back: a revision, a release tag, one step, or base",
    "status": "where the database stands against the code: revisions, heads, release, pending",
    "troubleshoot": "diagnose a migration problem and get the fix for each finding",
}
TUTORIAL = "first-migration"
GENERATED_SECTIONS = ("Tutorial", "How-to", "Runbooks")
TABLE_MARKER = "<!-- task-table -->"


def _h1(path: Path) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _task_rank(name: str) -> tuple[int, str]:
    return (TASK_ORDER.index(name) if name in TASK_ORDER else len(TASK_ORDER), name)


def build_nav(nav, docs_dir: Path, runbooks: list[str], generated: list[str]) -> list:
    """The configured nav with Tutorial, How-to and Runbooks made from the files that exist."""
    nav = [item for item in (nav or []) if not (isinstance(item, dict) and set(item) & set(GENERATED_SECTIONS))]
    sections = []
    tutorial_pages = sorted((docs_dir / "tutorial").glob("*.md")) if (docs_dir / "tutorial").is_dir() else []
    if tutorial_pages:
        sections.append({"Tutorial": [{_h1(p) or p.stem: f"tutorial/{p.name}"} for p in tutorial_pages]})
    tasks = sorted((docs_dir / "tasks").glob("*.md"), key=lambda p: _task_rank(p.stem))
    if tasks:
        sections.append({"How-to": [{_h1(p) or p.stem: f"tasks/{p.name}"} for p in tasks]})
    ordered = sorted(runbooks, key=lambda n: (n != TUTORIAL, _task_rank(n)))
    if ordered:
        labels = {TUTORIAL: "Tutorial: first migration", "from-migrate": "From before 22.05"}
        sections.append(
            {"Runbooks": [{labels.get(n, n.capitalize()): f"{NOTEBOOK_PAGES_URI}/{n}.ipynb"} for n in ordered]}
        )
    home = 1 if nav and isinstance(nav[0], dict) and "Home" in nav[0] else 0
    nav = nav[:home] + sections + nav[home:]
    if "reference/doctor-codes.md" in generated or (docs_dir / "reference/doctor-codes.md").exists():
        for item in nav:
            if isinstance(item, dict) and isinstance(item.get("Reference"), list):
                listed = [
                    v for entry in item["Reference"] for v in (entry.values() if isinstance(entry, dict) else [entry])
                ]
                if "reference/doctor-codes.md" not in listed:
                    item["Reference"].append({"Doctor codes": "reference/doctor-codes.md"})
    return nav


def task_table(docs_dir: Path, runbooks: list[str], prefix: str = "") -> str:
    """The home page's task menu: one row per task, links only to pages that exist."""
    lines = ["| task | what it does | guide | runbook | command |", "| --- | --- | --- | --- | --- |"]
    for task in TASK_ORDER:
        page = docs_dir / "tasks" / f"{task}.md"
        guide = f"[{_h1(page) or task}]({prefix}tasks/{task}.md)" if page.exists() else "*being written*"
        runbook = (
            f"[{task} runbook]({prefix}{NOTEBOOK_PAGES_URI}/{task}.ipynb)" if task in runbooks else "*being written*"
        )
        command = f"`{INSTALLED} {task}`<br>`{CLONE} {task}`"
        lines.append(f"| **{task}** | {TASK_SUMMARIES[task]} | {guide} | {runbook} | {command} |")
    return "\n".join(lines)


PENDING_LINK = re.compile(r"\[([^\]]+)\]\(((?:\.\./)*(?:tasks|tutorial|runbooks)/[\w.-]+\.(?:md|ipynb))(#[\w-]*)?\)")


def unlink_pending(markdown: str, page_uri: str, existing: set[str]) -> str:
    """``[text](../tasks/x.md)`` becomes ``text`` while that page or runbook does not exist yet."""

    def replace(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), match.group(2)))
        return match.group(0) if target in existing else match.group(1)

    return PENDING_LINK.sub(replace, markdown)


def generated_snippets() -> dict[str, callable]:
    """``<!-- generated: NAME -->`` in a page is replaced by ``NAME``'s output at build time."""
    from docs_build.checks.snippets import SNIPPETS
    from docs_build.generated.attacks import attack_table
    from docs_build.generated.charts import SNIPPETS as CHART_SNIPPETS
    from docs_build.generated.galaxy_states import SNIPPETS as STATES_SNIPPETS
    from docs_build.generated.mutants import mutant_table
    from docs_build.generated.rehearsal_scope import rehearsal_scope_table
    from docs_build.generated.replays import replay_table
    from docs_build.generated.supported_releases import supported_releases_table
    from docs_build.generated.upgrade_matrix import SNIPPETS as MATRIX_SNIPPETS
    from docs_build.generated.upgrade_times import upgrade_findings, upgrade_times
    from docs_build.site_build.pipeline import executions_table

    return {
        **MATRIX_SNIPPETS,
        **STATES_SNIPPETS,
        **CHART_SNIPPETS,
        "attack-table": attack_table,
        "mutant-table": mutant_table,
        "replay-table": replay_table,
        "supported-releases": supported_releases_table,
        "upgrade-times": upgrade_times,
        "upgrade-findings": upgrade_findings,
        "rehearsal-scope": rehearsal_scope_table,
        "runbook-executions": executions_table,
        **SNIPPETS,
    }


GENERATED_MARKER = re.compile(r"<!-- generated: ([a-z0-9-]+) -->")


def fill_generated(markdown: str) -> str:
    snippets = generated_snippets()

    def replace(match: re.Match) -> str:
        if match[1] not in snippets:
            raise PluginError(f"unknown generated snippet {match[1]!r}: one of {', '.join(snippets)}")
        return snippets[match[1]]()

    return GENERATED_MARKER.sub(replace, markdown)


# -- claims bound to checks (docs_build/checks/claims.py) ---------------------------------------------------


def check_claims(where: str, markdown: str) -> str:
    """Run the checks ``<!-- check: NAME key=value -->`` markers name, with the values their sentences
    state, and look for the values of ``<!-- shown: RUNBOOK/SECTION key=value -->`` markers in what the
    executed runbook printed; fail the build on a missing or failing check, a value the executed cells
    do not show, or a value the sentence does not state."""
    from docs_build.checks.claims import ANY_MARKER, bindings, check_binding, shown_bindings

    for binding in bindings(markdown) + shown_bindings(markdown):
        problem = check_binding(binding, _checked)
        if problem:
            raise PluginError(f"{where}: a claim is not shown true: {problem}")
    return ANY_MARKER.sub("", markdown)


def check_runbook_claims() -> None:
    from docs_build.checks.claims import page_sources
    from docs_build.checks.experiments import run_all

    _checked.clear()
    run_all()  # every experiment once (cached across builds), two at a time
    for page, text in page_sources().items():
        if page.startswith(f"{NOTEBOOK_PAGES_URI}/"):
            check_claims(page, text)


def on_page_markdown(markdown: str, page, config, files) -> str:
    markdown = check_claims(page.file.src_uri, markdown)
    markdown = fill_generated(markdown)
    if TABLE_MARKER in markdown:
        markdown = markdown.replace(TABLE_MARKER, task_table(Path(config.docs_dir), list(_executed)))
    return unlink_pending(markdown, page.file.src_uri, {f.src_uri for f in files})


MERMAID_SCRIPT = "assets/vendor/mermaid.min.js"


def with_local_mermaid(output: str, page) -> str:
    """Pages that draw a diagram load the vendored Mermaid first, so Material never fetches it from a CDN."""
    if 'class="mermaid"' not in output:
        return output
    src = "../" * page.url.count("/") + MERMAID_SCRIPT
    return output.replace("</head>", f'<script src="{src}"></script>\n</head>', 1)


# -- what a reader sees: no build-machine path, and how to run each runbook -------------------------

# Parameters a reader sets to run a runbook on their own database; confirm is what lets it write.
READER_PARAMETERS = ("target", "message", "table", "column", "confirm")


def run_command_lines(task: str, command: str = INSTALLED) -> tuple[str, str]:
    """The SQLite and PostgreSQL commands that run ``task`` against the reader's database."""
    from runbooks.cli.notebook_run import notebook_path
    from runbooks.cli.parameters import declared_parameters

    declared = declared_parameters(notebook_path(task))
    shown = []
    for name in READER_PARAMETERS:
        if name in declared and declared[name] != "":  # empty: the runbook's own default (never `-p NAME ''`)
            value = "true" if name == "confirm" else str(declared[name])
            shown.append(f"-p {name} {shlex.quote(value)}")
    tail = " ".join([task, *shown])
    return (
        f"{command} run {tail} --db 'sqlite:///database/universe.sqlite'",
        f"RUNBOOK_DB_URL='postgresql://galaxy@dbhost/galaxy' {command} run {tail}",
    )


def run_box(task: str) -> str:
    sqlite, postgresql = (html_escape(line) for line in run_command_lines(task))
    clone = html_escape(run_command_lines(task, CLONE)[0])
    return (
        '<div class="runbook-run"><p><strong>Run it on your own database</strong> '
        "(the outputs below are from this site's build, on a sample database):</p>"
        f'<pre><code class="language-sh"># SQLite\n{sqlite}\n# PostgreSQL\n{postgresql}\n'
        f"# the same from a clone of the project, with its .venv\n{clone}</code></pre></div>"
    )


def on_post_page(output: str, page, config) -> str:
    return with_local_mermaid(hide_build_paths(output), page)


def on_post_build(config) -> None:
    index = Path(config.site_dir) / "search" / "search_index.json"
    if index.exists():
        index.write_text(hide_build_paths(index.read_text(encoding="utf-8")), encoding="utf-8")


def on_page_content(html: str, page, config, files) -> str:
    html = hide_build_paths(html)
    task = page.file.src_uri.removeprefix(f"{NOTEBOOK_PAGES_URI}/").removesuffix(".ipynb")
    if page.file.src_uri.endswith(".ipynb") and task in _executed:
        html = run_box(task) + html
    return html
