"""The docs build as a new contributor and the publish workflow run it: the README's command, from a
fresh clone, with empty caches, under CI=true; then what a warm rebuild prints.

The session's site build (tests/docs_site.py) is that build: these tests read its record.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from docs_build.settings import DOCS_PG_ENV
from runbooks.settings import CACHE_ENV

from docs_site import PROJECT, WORKFLOW, build_record, reads_the_site_build, workflow_build_step

README = PROJECT / "README.md"


def readme_docs_commands() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Read the guide", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)[1]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_workflow_builds_with_the_readme_command():
    assert readme_docs_commands() == [".venv/bin/mkdocs serve", ".venv/bin/mkdocs build --strict"]
    assert workflow_build_step()["run"] == ".venv/bin/mkdocs build --strict"


@reads_the_site_build
def test_the_readme_command_builds_a_fresh_clone_with_empty_caches():
    record = build_record()
    cold = record["cold"]
    assert cold["rc"] == 0
    env = record["env"]
    assert env["CI"] == "true" and "PYTHONPATH" not in env
    for folder in ("XDG_CACHE_HOME", CACHE_ENV, "HOME"):
        assert Path(env[folder]).is_relative_to(Path(record["clone"]).parent.parent), folder
    notebooks = sorted(p.stem for p in (PROJECT / "notebooks").glob("*.ipynb"))
    assert f"executing {len(notebooks)} runbook(s)" in cold["output"]  # every cache was empty
    for task in notebooks:
        assert f"runbook {task}: executed in" in cold["output"], task
    assert "Traceback" not in cold["output"]
    print(f"cold build {cold['seconds']} s, warm build {record['warm']['seconds']} s")


def test_the_workflow_declares_the_postgresql_server_its_build_uses():
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]
    service = job["services"]["postgres"]
    assert service["image"].startswith("postgres:") and "5432:5432" in service["ports"]
    url = workflow_build_step()["env"][DOCS_PG_ENV]
    assert re.fullmatch(r"postgresql://postgres:[^@]+@(127\.0\.0\.1|localhost):5432", url), url
    assert f":{service['env']['POSTGRES_PASSWORD']}@" in url


@reads_the_site_build
def test_a_warm_build_prints_a_few_lines_and_no_traceback():
    warm = build_record()["warm"]
    lines = [line for line in warm["output"].splitlines() if line.strip()]
    assert warm["rc"] == 0
    assert len(lines) <= 30, "\n".join(lines)
    assert not [line for line in lines if re.search(r"Traceback|DEBUG|DeprecationWarning", line)]
    for task in sorted(p.stem for p in (PROJECT / "notebooks").glob("*.ipynb")):
        assert any(line.endswith("s)") and f"runbook {task}: from the cache" in line for line in lines), task


def test_scratch_database_names_are_each_builds_own():
    code = "from docs_build.checks.experiments import scratch_name; print(scratch_name('fk'))"
    run = [sys.executable, "-c", code]
    names = {subprocess.run(run, capture_output=True, text=True, cwd=PROJECT).stdout for _ in "ab"}
    assert len(names) == 2 and all(re.fullmatch(r"docs_claims_\d+_[0-9a-f]{6}_fk\n", name) for name in names), names
    for path in sorted((PROJECT / "docs_build" / "checks").glob("*.py")):
        assert not re.search(r"[\"']docs_claims_\w", path.read_text(encoding="utf-8")), path.name


def test_the_readme_says_how_to_silence_the_material_banner_and_why():
    import material.templates

    source = Path(material.templates.__file__).read_text(encoding="utf-8")
    variable = re.search(r'os\.getenv\("(\w+)"\)', source)[1]
    end = re.search(r"reaches end of life on ([A-Z][a-z]+ \d+, \d{4})", source)[1]
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert f"{variable}=1" in readme and end in readme and "Zensical" in readme
    assert variable in workflow_build_step()["env"]


def test_the_readme_says_how_to_start_jupyterlab_as_root():
    import jupyter_server.serverapp

    refusal = "Running as root is not recommended. Use --allow-root to bypass."
    assert refusal in Path(jupyter_server.serverapp.__file__).read_text(encoding="utf-8")
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert refusal in readme and "jupyter lab --allow-root notebooks/" in readme


QUIET_PROBE = """
import sys, warnings
warnings.simplefilter("module", DeprecationWarning)  # what MkDocs sets before it loads the hooks
if sys.argv[1] == "guarded":
    from docs_build.site_build.quiet import keep_third_party_quiet
    keep_third_party_quiet()
import galaxy.model.migrations.base  # calls logging.basicConfig(level=DEBUG)
import lib2to3  # a DeprecationWarning raised inside the standard library
import markdown
markdown.markdown("# title", extensions=["toc"])
"""


def test_the_build_keeps_galaxys_debug_logging_and_third_party_deprecations_out():
    def stderr(mode: str) -> str:
        run = [sys.executable, "-c", QUIET_PROBE, mode]
        return subprocess.run(run, capture_output=True, text=True, cwd=PROJECT, timeout=120).stderr

    assert "DEBUG:MARKDOWN" in stderr("bare")  # the noise is real without the guard
    guarded = stderr("guarded")
    assert "DEBUG" not in guarded and "DeprecationWarning" not in guarded, guarded
