"""Claims of the safety page that the upgrade and status checks do not already cover: a special
file is refused unopened, printed commands come from one function, runbook parameters are typed,
and destructive statements are shown only with a proof."""

from __future__ import annotations

import inspect
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

from docs_build.checks.claim_registry import check
from docs_build.checks.claims_status import _runs
from runbooks.paths import PROJECT_ROOT


@check
def reading_never_writes():
    """``status`` and ``troubleshoot`` leave a database file byte for byte as it was and create no
    missing one; a FIFO given as a database is refused without being opened (opening would hang)."""
    from runbooks.database.connections import inspect_database
    from runbooks.database.urls import DatabaseUrl
    from runbooks.errors import UsageError

    found = _runs()
    assert found["sample"]["unchanged"] and found["files"] == ["galaxy.sqlite"], found["files"]
    assert "nope.sqlite" not in found["files"] and found["troubleshoot_missing"]["rc"] == 1
    with tempfile.TemporaryDirectory() as folder:
        fifo = Path(folder) / "galaxy.sqlite"
        os.mkfifo(fifo)
        try:
            inspect_database(DatabaseUrl.parse(f"sqlite:///{fifo}"))
            raise AssertionError("a FIFO was accepted")
        except UsageError as error:
            assert "FIFO (named pipe)" in str(error) and "it was not opened" in str(error)


@check
def printed_commands_come_from_one_function():
    """``restore with:``, ``Next:``, a finding's ``fix:`` and the saved notebook: each built by
    ``command_line`` (quoted, same database), the notebook scrubbed of the password."""
    from runbooks.cli import notebook_run, render
    from runbooks.doctor.checks import examination
    from runbooks.tasks import failure_explanations, status

    assert "command_line(" in inspect.getsource(render.restore_command)
    assert "command_line(" in inspect.getsource(status.next_step)
    assert "command_line(" in inspect.getsource(examination)
    assert "command_line(" in inspect.getsource(failure_explanations)  # a failure's way out
    assert "_scrub(output, secrets)" in inspect.getsource(notebook_run.run_notebook)


@check
def runbook_parameters_are_typed():
    from runbooks.cli.notebook_run import notebook_path
    from runbooks.cli.parameters import typed_parameters, typed_value
    from runbooks.errors import UsageError

    assert typed_value("confirm", "False", True) is False
    for call in (
        lambda: typed_value("confirm", "maybe", True),
        lambda: notebook_path("../../etc/passwd"),
        lambda: typed_parameters("upgrade", PROJECT_ROOT / "notebooks" / "upgrade.ipynb", [("no_such", "1")]),
    ):
        try:
            call()
            raise AssertionError("accepted")
        except UsageError:
            pass


@check
def destructive_advice_only_with_proof():
    """A way out's statements are printed only when the same rehearsal with them applied reached the
    target; a bad version row's fix deletes that row by its own value."""
    from runbooks.cli.render import way_out_text
    from runbooks.database import version_rows

    explanation = SimpleNamespace(fix="drop the leftover index")
    unproven = SimpleNamespace(proven=False, statements=("DROP INDEX ix;",), describe=lambda: "it did not help")
    proven = SimpleNamespace(proven=True, statements=("DROP INDEX ix;",), describe=lambda: "proved on a copy")
    said = {
        name: way_out_text(SimpleNamespace(explanation=explanation, proof=proof))
        for name, proof in (("none", None), ("unproven", unproven), ("proven", proven))
    }
    assert "DROP" not in said["none"] and "DROP" not in said["unproven"] and "DROP INDEX ix;" in said["proven"]
    assert 'f"DELETE FROM alembic_version WHERE {_match(raw, dialect)};"' in inspect.getsource(version_rows)


@check
def attack_table_is_read_from_the_tests():
    """The table's rows are the ``attack(AREA, WHAT, OUTCOME)`` declarations of tests/test_attack_*.py,
    read with ``ast`` by the build; among them the unplanned paths the page names."""
    from docs_build.generated.attacks import attack_table, declared_attacks
    from docs_build.site_build import hooks

    attacks = declared_attacks()
    assert attacks and all((PROJECT_ROOT / "tests" / a["file"]).is_file() for a in attacks)
    assert '"attack-table": attack_table' in inspect.getsource(hooks)
    assert len(attack_table().splitlines()) == len(attacks) + 4
    said = [a["what"] for a in attacks]
    for path in ("a backup of another database", "two upgrades started at once", "kill -9 the upgrade CLI", "$("):
        assert any(path in what for what in said), path
