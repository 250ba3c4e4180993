"""The docs build's one step before rendering: execute the runbooks, write every generated page.

``python -m docs_build`` runs it alone; ``mkdocs build --strict`` runs it first (docs_build/site_build/hooks.py),
then only renders files. It writes into ``build/docs/pages/`` (``RUNBOOK_DOCS_BUILD_DIR``):

- ``runbooks/<task>.md``: the executed runbook as a page (nbconvert, docs_build/site_build/templates/runbook),
- ``runbooks/<task>/<task>.ipynb``: the executed notebook offered for download,
- ``reference/*.md``: the reference generated from Galaxy's code (docs_build/generated/reference.py),
- ``executions.json``: when each runbook was executed and whether this build took it from the cache.

Every file is replaced whole (written beside, then renamed), so ``mkdocs serve`` never reads half a page.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from docs_build.settings import DOCS_BUILD_DIR_ENV
from docs_build.site_build.execution import CACHE_DIR, SHOWN_HOME, Execution, execute_all, hide_machine_paths
from runbooks.paths import PROJECT_ROOT, write_whole

BUILD_DIR = Path(os.environ.get(DOCS_BUILD_DIR_ENV) or PROJECT_ROOT / "build" / "docs")
PAGES_DIR = BUILD_DIR / "pages"
NOTEBOOK_PAGES_URI = "runbooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"


def hide_build_paths(text: str) -> str:
    """The build's sample database shows as ``.runbooks/sample.sqlite``; no other path of this machine."""
    text = text.replace(str(BUILD_DIR / "home"), SHOWN_HOME).replace(str(BUILD_DIR), "build/docs")
    return hide_machine_paths(text)


def _fence(text: str, language: str = "") -> str:
    """A fenced block longer than any backtick run inside, so an output never closes it early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text.rstrip(chr(10))}\n{ticks}"


def notebook_markdown(notebook_text: str, download: str) -> str:
    """An executed notebook as a Markdown page, with front matter naming its download."""
    import nbformat
    from nbconvert import MarkdownExporter

    exporter = MarkdownExporter(template_name="runbook", extra_template_basedirs=[str(TEMPLATES)])
    exporter.register_filter("fence", _fence)
    body, _ = exporter.from_notebook_node(nbformat.reads(notebook_text, as_version=4))
    return f"---\nrunbook_download: {download}\n---\n\n{body.strip()}\n"


def write_runbook_pages(executions: list[Execution]) -> None:
    for run in executions:
        shown = hide_build_paths(run.notebook.read_text(encoding="utf-8"))
        write_whole(PAGES_DIR / NOTEBOOK_PAGES_URI / run.task / f"{run.task}.ipynb", shown)
        write_whole(PAGES_DIR / NOTEBOOK_PAGES_URI / f"{run.task}.md", notebook_markdown(shown, f"{run.task}.ipynb"))
    write_whole(PAGES_DIR / "executions.json", json.dumps([run.to_json() for run in executions], indent=1))


def _reference_key(docs_dir: Path) -> str:
    """What the generated reference depends on: the code that writes it, Galaxy's, and the hand-written pages."""
    import hashlib

    from docs_build.generated.reference import RELEASE_FIXTURES
    from docs_build.site_build.execution import key_parts

    digest = hashlib.sha256(json.dumps({**key_parts("status"), "notebook": ""}, sort_keys=True).encode())
    docs_build = Path(__file__).resolve().parents[1]
    for path in sorted(docs_build.rglob("*.py")) + [RELEASE_FIXTURES]:
        digest.update(
            str(path.relative_to(docs_build.parent)).encode() + (path.read_bytes() if path.is_file() else b"")
        )
    digest.update(" ".join(sorted(str(p.relative_to(docs_dir)) for p in docs_dir.rglob("*.md"))).encode())
    return digest.hexdigest()[:20]


def write_reference_pages(docs_dir: Path) -> list[str]:
    """The generated reference (Galaxy's code imported: seconds), cached like the runbooks."""
    from docs_build.generated.reference import generate_pages

    cached = CACHE_DIR / "reference" / f"{_reference_key(docs_dir)}.json"
    if cached.is_file():
        pages = json.loads(cached.read_text(encoding="utf-8"))
    else:
        pages = generate_pages(docs_dir)
        write_whole(cached, json.dumps(pages))
    for uri, text in pages.items():
        write_whole(PAGES_DIR / uri, text)
    return sorted(pages)


def prepare(docs_dir: Path | None = None, say: Callable[[str], None] = print) -> dict[str, list[str]]:
    """Execute (or take from the cache) every runbook and write every generated page."""
    started = time.monotonic()
    executions = execute_all(say=say)
    write_runbook_pages(executions)
    reference = write_reference_pages(Path(docs_dir or PROJECT_ROOT / "docs"))
    executed = sum(not run.cached for run in executions)
    say(f"pages written in {time.monotonic() - started:.1f}s ({executed} runbook(s) executed, into {PAGES_DIR})")
    return {"runbooks": [run.task for run in executions], "reference": reference}


def recorded_executions() -> list[dict]:
    path = PAGES_DIR / "executions.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def executions_table() -> str:
    """The contributing page's table: each runbook's last execution, and whether this build executed it."""
    lines = ["| runbook | executed at (UTC) | took | this build |", "| --- | --- | --- | --- |"]
    for run in recorded_executions():
        source = "from the cache" if run["cached"] else "executed"
        lines.append(f"| `{run['task']}` | {run['executed_at']} | {run['seconds']:.1f} s | {source} |")
    return "\n".join(lines)
