"""Galaxy issue 14680: "Document revision listing / how to pick correct one for downgrade" — after an
upgrade that has to be reverted in the maintenance window, which revision id is the previous release
(`run_alembic.sh current` does not say which row is gxy, nor which release it is)?

Made the way such a database comes to be: Galaxy 24.2.4's own code made it (with data,
tests/fixtures/releases), Galaxy's own `manage_db.sh upgrade release_25.0` moved it to 25.0. The runbooks
name the release a database is at and resolve a release tag to the revision for Galaxy's own downgrade
command; that command, run as printed, brings the database back to 24.2 (read back), and the doctor then
says where it stands: at 24.2, behind this code.
"""

from __future__ import annotations

import json

from runbooks.galaxy.commands import run_dbscript
from runbooks.tasks.migrate import read_rows

from conftest import run_cli, sqlite_from_release

REPORT = "https://github.com/galaxyproject/galaxy/issues/14680"
GALAXY_SAID = "(question) which revision is the previous release, to pass to `manage_db.sh downgrade`?"
DOCTOR_CODE = "database-behind"
AT_24_2 = {"a4c3ef999ab5", "d4a650f47a3c"}


def test_replay_14680(tmp_path, graph):
    db = sqlite_from_release("24.2.4.data", tmp_path)
    run_dbscript(db, "upgrade", revision="release_25.0")  # the upgrade to be reverted
    status = json.loads(run_cli("status", "--json", "--db", db.secret()).stdout)
    assert status["branches"]["gxy"]["release"] == "25.0" and status["branches"]["gxy"]["current"] == ["c716ee82337b"]
    plan = json.loads(run_cli("downgrade", "24.2", "--rehearse", "--json", "--db", db.secret()).stdout)
    assert plan["plan"]["galaxy_commands"] == ["manage_db.sh downgrade a4c3ef999ab5"], plan["plan"]
    assert plan["succeeded"] and set(read_rows(db)) == {"c716ee82337b", "d4a650f47a3c"}  # rehearsed on a copy
    run_dbscript(db, "downgrade", revision="a4c3ef999ab5")  # Galaxy's own command, as printed
    assert set(read_rows(db)) == AT_24_2
    doctor = json.loads(run_cli("troubleshoot", "--json", "--no-rehearse", "--db", db.secret()).stdout)
    (item,) = [f for f in doctor["findings"] if f["code"] == DOCTOR_CODE]
    assert "a4c3ef999ab5 (release 24.2)" in item["summary"], item
