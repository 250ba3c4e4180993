"""The scripts reference page reads Galaxy's files: the installed builder always, a checkout's
scripts when one is given (RUNBOOK_DOCS_GALAXY_ROOT), never a table this project typed."""

from __future__ import annotations

from docs_build.checks import claims
from docs_build.generated import galaxy_scripts
from docs_build.settings import DOCS_GALAXY_ROOT_ENV

# A checkout's two scripts, shaped as Galaxy's are: a shell script that runs a Python file which
# adds its options and calls the builder. The developer script asks for dev_options.
SCRIPT = """from argparse import ArgumentParser
from galaxy.model.migrations.dbscript import ParserBuilder


def main():
    parser = ArgumentParser(prog="{prog}")
    parser.add_argument("-c", "--galaxy-config", help="Alternate Galaxy configuration file", dest="config")
{extra}    builder = ParserBuilder(parser)
    builder.add_upgrade_command({dev})
    builder.add_downgrade_command({dev})
    builder.add_dbversion_command()
{more}"""


def _checkout(root, db_dev_options="dev_options=True", db_options=""):
    (root / "scripts").mkdir(parents=True)
    (root / "manage_db.sh").write_text('#!/bin/sh\npython ./scripts/db.py "$@"\n')
    (root / "scripts" / "db_dev.sh").write_text('#!/bin/sh\npython ./scripts/db_dev.py "$@"\n')
    (root / "scripts" / "db.py").write_text(SCRIPT.format(prog="manage_db.sh", extra="", dev=db_options, more=""))
    extra = '    parser.add_argument("--raiseerr", help="Raise a full stack trace on error", action="store_true")\n'
    more = "    builder.add_history_command()\n"
    (root / "scripts" / "db_dev.py").write_text(
        SCRIPT.format(prog="db_dev.sh", extra=extra, dev=db_dev_options, more=more)
    )
    return root


def _section(page: str, heading: str) -> str:
    start = page.index(heading)
    end = page.find("\n### ", start + len(heading))
    return page[start : end if end > 0 else None]


def test_without_a_checkout_the_page_says_it_did_not_read_the_scripts(monkeypatch):
    monkeypatch.delenv(DOCS_GALAXY_ROOT_ENV, raising=False)
    page = galaxy_scripts.scripts_page()
    assert "so it did not read them" in page and "## `manage_db.sh`" not in page
    assert "(only with `dev_options`)" in _section(page, "### `SCRIPT upgrade`")
    assert not hasattr(galaxy_scripts, "SCRIPT_BUILDERS")


def test_with_a_checkout_the_page_shows_what_each_script_calls(monkeypatch, tmp_path):
    monkeypatch.setenv(DOCS_GALAXY_ROOT_ENV, str(_checkout(tmp_path)))
    page = galaxy_scripts.scripts_page()
    assert "read them from the Galaxy checkout" in page
    assert "--repair" not in _section(page, "### `manage_db.sh upgrade`")
    assert "--repair" in _section(page, "### `scripts/db_dev.sh downgrade`")
    assert "`--raiseerr`" in _section(page, "## `scripts/db_dev.sh`") and "manage_db.sh history" not in page
    assert claims.run_check("repair_only_on_db_dev", {"flag": "--repair"}) is None


def test_the_repair_claim_fails_when_the_admin_script_asks_for_dev_options(monkeypatch, tmp_path):
    monkeypatch.setenv(DOCS_GALAXY_ROOT_ENV, str(_checkout(tmp_path, db_options="dev_options=True")))
    assert "scripts/db_dev.sh" in claims.run_check("repair_only_on_db_dev", {"flag": "--repair"})
