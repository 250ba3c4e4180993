"""The documentation site: strict build, links and anchors, generated pages against Galaxy's code,
and every fact the explanation pages state, checked against the installed code."""

from __future__ import annotations

import argparse
import html
import inspect
import os
import re
from pathlib import Path

import pytest

from docs_build.settings import DOCS_PG_ENV
from runbooks.code.environment import GalaxyEnv
from runbooks.settings import SITE_DIR_ENV

from docs_site import PROJECT, built_site, page_path
from html_links import broken_links

DOCS = PROJECT / "docs"


@pytest.fixture(scope="session")
def site() -> Path:
    return built_site()


def page_text(site: Path, uri: str) -> str:
    """The visible text of a built page, whitespace collapsed."""
    raw = page_path(site, uri).read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def squash(text: str) -> str:
    return " ".join(text.split())


def nospace(text: str) -> str:
    """Text without any whitespace: highlighted code puts spans (hence spaces) between tokens."""
    return "".join(text.split())


def sections(site: Path, uri: str) -> dict[str, str]:
    """``{h2/h3 heading text: visible text up to the next h2/h3}`` of a built page."""
    raw = page_path(site, uri).read_text(encoding="utf-8")
    raw = raw[raw.index("<article") : raw.index("</article>")]
    parts = re.split(r"(<h[23][^>]*>.*?</h[23]>)", raw, flags=re.S)
    found = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        title = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", heading)).replace("¶", "").split())
        found[title] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return found


# -- the build -------------------------------------------------------------------------------------


def test_every_internal_link_and_anchor_resolves(site):
    problems = broken_links(site)
    assert not problems, "broken links:\n" + "\n".join(problems[:50])


def test_every_runbook_is_rendered_executed_with_its_download(site):
    import json

    for notebook in sorted((PROJECT / "notebooks").glob("*.ipynb")):
        folder = site / "runbooks" / notebook.stem
        assert (folder / "index.html").is_file(), f"no page for {notebook.name}"
        executed = json.loads((folder / notebook.name).read_text(encoding="utf-8"))
        code = [c for c in executed["cells"] if c["cell_type"] == "code"]
        assert code and all(c.get("execution_count") for c in code), f"{notebook.name} not executed"
        assert any(c.get("outputs") for c in code), f"{notebook.name} has no outputs"
        assert "papermill" in executed["metadata"]


def test_every_task_page_links_its_runbook():
    for page in sorted((DOCS / "tasks").glob("*.md")):
        if (PROJECT / "notebooks" / f"{page.stem}.ipynb").exists():
            assert f"runbooks/{page.stem}.ipynb" in page.read_text(encoding="utf-8"), page.name


def test_nav_lists_what_exists(site):
    home = page_path(site, "index.md").read_text(encoding="utf-8")
    for page in (DOCS / "tasks").glob("*.md"):
        assert f'href="tasks/{page.stem}/"' in home, f"tasks/{page.name} missing from the nav"
    for notebook in (PROJECT / "notebooks").glob("*.ipynb"):
        assert f'href="runbooks/{notebook.stem}/"' in home, f"runbook {notebook.stem} missing from the nav"


def test_nav_and_links_skip_pages_that_do_not_exist(tmp_path):
    from docs_build.site_build.hooks import build_nav, task_table, unlink_pending

    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "status.md").write_text("# Check status\n")
    nav = build_nav([{"Home": "index.md"}, {"Reference": []}], tmp_path, ["status", "first-migration"], [])
    assert nav[1] == {"How-to": [{"Check status": "tasks/status.md"}]}
    assert nav[2] == {
        "Runbooks": [
            {"Tutorial: first migration": "runbooks/first-migration.ipynb"},
            {"Status": "runbooks/status.ipynb"},
        ]
    }
    table = task_table(tmp_path, ["status"])
    assert "[Check status](tasks/status.md)" in table and "(tasks/upgrade.md)" not in table
    text = "[Upgrade](../tasks/upgrade.md) and [status](../tasks/status.md#steps)"
    assert unlink_pending(text, "explanation/x.md", {"tasks/status.md"}) == (
        "Upgrade and [status](../tasks/status.md#steps)"
    )


# -- generated pages against Galaxy's code, by another route than the generator -------------------


def test_release_tags_page_matches_revision_tags(site):
    from galaxy.model.migrations.dbrevisions import REVISION_TAGS

    text = page_text(site, "reference/release-tags.md")
    for tag, revision in REVISION_TAGS.items():
        assert f"{tag} {revision}" in text, f"release tag {tag} -> {revision} missing"
    assert "no: galaxy-data 26.1.2 ends at fac9c76612f9" in text


def test_revision_graph_page_matches_alembic(site):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(GalaxyEnv.from_package().alembic_ini)))
    revisions = list(script.walk_revisions())
    text = page_text(site, "reference/revision-graph.md")
    raw = page_path(site, "reference/revision-graph.md").read_text(encoding="utf-8")
    for revision in revisions:
        assert revision.revision in text
    merges = [r.revision for r in revisions if r.is_merge_point]
    gxy_merges = [r for r in merges if "gxy" in script.get_revision(r).branch_labels]
    assert f"{len(gxy_merges)} merge revision(s)" in text
    for head in script.get_heads():
        assert f"r_{head}([" in html.unescape(raw), f"head {head} not drawn as a head"
    assert raw.count('class="mermaid"') == 2


def test_util_page_lists_every_helper_with_its_signature(site):
    from galaxy.model.migrations import util

    text = page_text(site, "reference/util-helpers.md")
    public = [n for n, f in vars(util).items() if inspect.isfunction(f) and f.__module__ == util.__name__]
    public = [n for n in public if not n.startswith("_")]
    assert {"create_table", "create_foreign_key", "table_exists", "transaction", "legacy_alter_table"} <= set(public)
    for name in public:
        assert nospace(f"{name}{inspect.signature(getattr(util, name))}") in nospace(text), name
    for name in ("drop_column", "alter_column", "create_foreign_key", "create_unique_constraint", "drop_constraint"):
        assert re.search(rf"{name} Wraps .*? yes", text), f"{name} should be marked ALTER-type"


def test_exceptions_page_quotes_every_message(site):
    from galaxy.model.migrations import exceptions

    text = page_text(site, "reference/exceptions.md")
    classes = [c for c in vars(exceptions).values() if inspect.isclass(c) and c.__module__ == exceptions.__name__]
    assert len(classes) >= 7
    for cls in classes:
        params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        message = str(cls(*[f"<{p}>" for p in params]))
        assert nospace(message) in nospace(text), f"message of {cls.__name__} not quoted exactly"


def test_scripts_page_has_every_subcommand_and_flag(site):
    import alembic.config
    from galaxy.model.migrations.dbscript import ParserBuilder

    text = page_text(site, "reference/scripts.md")
    for dev in (False, True):
        parser = argparse.ArgumentParser()
        builder = ParserBuilder(parser)
        for name in dir(builder):
            if name.startswith("add_"):
                method = getattr(builder, name)
                method(dev_options=dev) if "dev_options" in inspect.signature(method).parameters else method()
        for name, sub in builder.subparsers.choices.items():
            if name in ("v", "dv", "h", "s"):
                continue
            assert f"SCRIPT {name}" in text, name
            for action in sub._actions:
                for flag in action.option_strings:
                    if flag not in ("-h", "--help"):
                        assert flag in text, f"{name} {flag}"
    by_heading = sections(site, "reference/scripts.md")  # built without a Galaxy checkout: the builder's offer
    upgrade = by_heading["SCRIPT upgrade"]
    assert "--sql" in upgrade and "--repair" in upgrade and "only with dev_options" in upgrade
    assert "SCRIPT init" in by_heading and "manage_db.sh upgrade" not in by_heading
    cli = alembic.config.CommandLine()
    subparsers = next(a for a in cli.parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in subparsers.choices:
        assert f"run_alembic.sh {name}" in text, name


def test_cli_and_lint_pages_match_the_code(site):
    from runbooks.cli.main import build_parser
    from runbooks.lint.registry import RULES

    cli = page_text(site, "reference/cli.md")
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in subparsers.choices:
        assert name in cli
    lint = page_text(site, "reference/lint-rules.md")
    for rule in RULES:
        assert rule in lint


def test_doctor_codes_page_lists_every_code(site):
    from runbooks.findings.catalogue import CODES

    raw = page_path(site, "reference/doctor-codes.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f'id="{code.code}"' in raw, code.code


def test_generated_pages_are_what_the_code_generates_now(site):
    """A page in the build that differs from a fresh generation means a stale or typed table."""
    from docs_build.generated.reference import generate_pages

    for uri, markdown in generate_pages(DOCS).items():
        text = page_text(site, uri)
        for line in markdown.splitlines():
            if line.startswith("| `") and "](" not in line:
                cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
                first = cells[0].replace("\\", "")
                assert first in text, f"{uri}: row {first!r} not in the built page"


# -- pages compared with the code where no claim check reads them (the facts themselves are the
# claim checks' job: docs_build/checks/claims_*.py, run by tests/test_claims.py) --------------------


def test_sqlite_postgresql_dialect_table_lists_the_revisions_that_call_is_sqlite(env):
    text = (DOCS / "explanation/sqlite-postgresql.md").read_text(encoding="utf-8")
    revisions = sorted(env.versions_dir("gxy").glob("*.py"))
    calls_is_sqlite = {p.name[:12] for p in revisions if "_is_sqlite()" in p.read_text(encoding="utf-8")}
    assert set(re.findall(r"^\| `([0-9a-f]{12})` \|", text, re.M)) == calls_is_sqlite


def test_startup_diagram_follows_the_verifier():
    import galaxy.model.migrations as migrations

    verifier = migrations.DatabaseStateVerifier
    run = inspect.getsource(verifier.run)
    order = [run.index(m) for m in ("_handle_no_database", "_handle_empty_database", "_handle_nonempty_database")]
    assert order == sorted(order)
    text = (DOCS / "explanation/startup.md").read_text(encoding="utf-8")
    diagram = text[text.index("```mermaid") : text.index("```", text.index("```mermaid") + 3)]
    for name in re.findall(r"\b(_[a-z_]+|is_up_to_date|is_under_version_control)\b", diagram):
        assert hasattr(verifier, name) or hasattr(migrations.AlembicManager, name), name
    source = inspect.getsource(migrations)
    for exception in re.findall(r"\[\[(\w+)\]\]", diagram):
        assert f"raise {exception}(" in source, exception
    gxy, tsi = migrations.SQLALCHEMYMIGRATE_LAST_VERSION_GXY, migrations.SQLALCHEMYMIGRATE_LAST_VERSION_TSI
    assert f"version {gxy} (gxy)<br/>or {tsi} (tsi)" in diagram


def test_coverage_table_covers_every_skill_section():
    seed = Path("/work/shared/seed/galaxy-db-migration-skill.txt")
    from docs_build.checks.snippets import coverage_table

    table = coverage_table()
    for topic in (
        "Task menu",
        "Quick commands",
        "create, step 1",
        "create, step 6",
        "upgrade:",
        "upgrade notes",
        "downgrade:",
        "downgrade notes",
        "status:",
        "deadlock",
        "IncorrectVersionError",
        "version mismatch",
        "table already exists",
        "cannot find revision file",
        "foreign key constraint violation",
        "helper list",
        "Common patterns",
    ):
        assert topic in table, topic
    if seed.exists():
        problems = re.findall(r"^Problem: (.+)$", seed.read_text(encoding="utf-8"), re.M)
        assert len(problems) == 6


# -- what a reader sees ------------------------------------------------------------------------------


READER_SQLITE = re.compile(
    r"sqlite:///(\.runbooks/sample\.sqlite|database/universe\.sqlite|<scratch>/[\w.-]+|<[a-z-]+>)"
)


def machine_paths(site: Path) -> list[str]:
    """Every path of the machines that built the site: the project and the fresh clone, their venvs, the
    runner's home and caches, the temporary folder, and the password of the build's PostgreSQL URL."""
    import sys
    import tempfile

    from docs_build.checks.experiments import PG_SERVER

    from docs_site import build_record

    needles = [str(PROJECT), sys.prefix, str(Path.home()), tempfile.gettempdir() + "/"]
    if not os.environ.get(SITE_DIR_ENV):
        record = build_record()
        needles += [record["clone"], str(Path(record["clone"]).parent), record["env"]["XDG_CACHE_HOME"]]
        needles += [f":{p}@" for p in re.findall(r"://[^:/@]+:([^@]+)@", record["env"].get(DOCS_PG_ENV, ""))]
    needles += [f":{p}@" for p in re.findall(r"://[^:/@]+:([^@]+)@", PG_SERVER)]
    return [n for n in needles if n not in ("/", "")]


def site_texts(site: Path):
    for path in sorted(site.rglob("*")):
        if path.suffix in (".html", ".ipynb", ".json", ".md") and path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")


def test_no_build_machine_path_in_the_site(site):
    needles = machine_paths(site)
    # a folder a run made and removed: mkdtemp's random suffix after the prefix (the notebooks' code names the prefix)
    temporary = re.compile(r"(?:runbooks-(?:scratch|create|first|revision|reference)|troubleshoot|rbk)-[a-z0-9_]{4}")
    found = {}
    for path, text in site_texts(site):
        text = html.unescape(text)
        hits = [n for n in needles if n in text] + temporary.findall(text)
        if hits:
            found[str(path.relative_to(site))] = sorted(set(map(str, hits)))[:5]
    assert found == {}
    assert ".runbooks/sample.sqlite" in page_path(site, "runbooks/status.ipynb").read_text(encoding="utf-8")
    assert "<scratch>" in html.unescape(page_path(site, "runbooks/create.ipynb").read_text(encoding="utf-8"))


def test_every_next_command_on_a_runbook_page_names_a_database_a_reader_has(site):
    """``Next:`` and ``fix:`` lines point at the sample, the reader's own database, or say ``<scratch>``."""
    for notebook in sorted((PROJECT / "notebooks").glob("*.ipynb")):
        text = page_text(site, f"runbooks/{notebook.name}")
        for line in re.findall(r"(?:Next|fix):[^\n]*?(?=Database:|Next:|fix:|$)", text):
            for url in re.findall(r"sqlite:///\S+", line):
                assert READER_SQLITE.match(url), (notebook.stem, line[:200])


TASK_PAGES = [f"tasks/{p.name}" for p in sorted((DOCS / "tasks").glob("*.md"))]
INSTALLED_PAGES = ["index.md", "tutorial/first-migration.md", *TASK_PAGES]
BARE_PYTHON = re.compile(r"(?<![\w/.-])python -[mc]\b")


def test_pages_show_the_installed_command_beside_the_clone_form_and_no_bare_python(site):
    for uri in INSTALLED_PAGES:
        text = page_text(site, uri)
        assert "galaxy-migrations" in text and ".venv/bin/python -m runbooks" in text, uri
        bare = [text[m.start() - 60 : m.end() + 40] for m in BARE_PYTHON.finditer(text)]
        assert not bare, (uri, bare)
    assert "--allow-root" in page_text(site, "index.md")


def test_each_runbook_page_shows_how_to_run_it_on_your_database(site):
    from docs_build.site_build.hooks import run_command_lines

    for notebook in sorted((PROJECT / "notebooks").glob("*.ipynb")):
        text = html.unescape(page_path(site, f"runbooks/{notebook.name}").read_text(encoding="utf-8"))
        sqlite, postgresql = run_command_lines(notebook.stem)
        assert sqlite in text and postgresql in text, notebook.stem
    assert "-p confirm true" in run_command_lines("upgrade")[0]
