"""The README's two set-up commands stay true, and CI runs exactly the test command."""

from __future__ import annotations

import re

from runbooks.settings import HOME_ENV

from conftest import PROJECT, run_cli


def readme_commands() -> list[str]:
    section = (PROJECT / "README.md").read_text().split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_exactly_two_commands_and_ci_runs_the_test_one():
    main_job, tests = readme_commands()
    assert main_job.endswith("python -m runbooks status") and "pip install -r requirements.txt" in main_job
    assert tests.endswith("python -m pytest")
    ci = (PROJECT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_main_job_runs_status_on_a_fresh_sample(tmp_path):
    result = run_cli("status", env={HOME_ENV: str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "Creating the sample database" in result.stderr
    assert "State:       up-to-date" in result.stdout
    assert (tmp_path / "sample.sqlite").exists()


def test_the_upgrade_row_says_what_a_run_does(sqlite_db):
    """The README's steps for `upgrade` are a plain run's; the rehearsal happens only with --rehearse."""
    row = next(line for line in (PROJECT / "README.md").read_text().splitlines() if line.startswith("| `upgrade "))
    plain, rehearsed = row.split(" | ", 1)[1].split("with `--rehearse`", 1)
    assert "rehears" not in plain.lower() and "copy" in rehearsed
    db = sqlite_db("26.0")
    result = run_cli("upgrade", "--yes", "--db", db.secret())
    assert result.returncode == 0, result.stderr
    assert "Backup:" in result.stdout and "Done:" in result.stdout
    assert "rehears" not in (result.stdout + result.stderr).lower()
