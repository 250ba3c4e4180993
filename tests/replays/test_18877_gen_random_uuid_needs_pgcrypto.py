"""Galaxy issue 18877: "db migration fail upgrade 24.1 from a5da8acfc5 to 2a7954c51b" — on a PostgreSQL
server older than 13 without pgcrypto, `manage_db.sh upgrade` stops at 04288b6a5b25 (make dataset uuids
unique) with `function gen_random_uuid() does not exist`.

Made the way the reporter's database came to be: Galaxy 24.0.3's own initialization and model wrote the
database (tests/fixtures/releases, with the duplicate dataset uuids that make 04288b6a5b25 call
gen_random_uuid), then upgraded towards 24.1 by Galaxy's own code. The server here is PostgreSQL 15,
which has gen_random_uuid built in; a server before 13 is simulated in this database only: the built-in
is renamed (pg_proc is per database), so calling it fails exactly as on PostgreSQL 12 without pgcrypto.
The fix is the real one: CREATE EXTENSION pgcrypto, whose own gen_random_uuid the upgrade then calls.
"""

from __future__ import annotations

from runbooks.doctor import diagnose
from runbooks.errors import GalaxyCommandFailed
from runbooks.galaxy.commands import run_dbscript
from runbooks.tasks.migrate import read_rows
from runbooks.testing.scratch_states import execute_sql

from conftest import postgresql_from_release, run_cli

REPORT = "https://github.com/galaxyproject/galaxy/issues/18877"
GALAXY_SAID = "psycopg2.errors.UndefinedFunction: function gen_random_uuid() does not exist (at 04288b6a5b25)"
DOCTOR_CODE = "server-lacks-function"
NOTE = (
    "Simulated: PostgreSQL 15 has gen_random_uuid built in, so the test renames the built-in in its own "
    "database (as on a server before 13 without pgcrypto); the fix, CREATE EXTENSION pgcrypto, is real"
)
AT_24_0 = {"55f02fd8ab6c", "d4a650f47a3c"}
AT_24_1 = {"04288b6a5b25", "d4a650f47a3c"}  # the upgrade target the reporter's 24.1 asked for


def _galaxy_upgrade_error(db) -> str:
    try:
        output = run_dbscript(db, "upgrade", revision="04288b6a5b25")
    except GalaxyCommandFailed as error:
        return "\n".join(error.errors) + error.galaxy_message
    return "\n".join(output.errors)


def test_replay_18877(pg_database, graph):
    db = postgresql_from_release("24.0.3.data", pg_database())
    execute_sql(db, ["ALTER FUNCTION pg_catalog.gen_random_uuid() RENAME TO gen_random_uuid_before_13"])
    # Galaxy's own upgrade: the reporter's error, and nothing applied.
    assert "function gen_random_uuid() does not exist" in _galaxy_upgrade_error(db)
    assert set(read_rows(db)) == AT_24_0
    # The doctor names it before anything runs; the upgrade refuses before writing.
    item = diagnose(db, graph, rehearse=False).get(DOCTOR_CODE)
    assert item is not None and "04288b6a5b25" in item.summary and "pgcrypto" in item.fix
    refused = run_cli("upgrade", "24.1", "--db", db.secret(), "--yes", "--no-backup")
    assert refused.returncode == 1 and DOCTOR_CODE in refused.stderr + refused.stdout, refused.stderr
    assert "nothing was changed" in refused.stderr and set(read_rows(db)) == AT_24_0
    # The fix, then the same upgrade reaches 24.1 (read back).
    execute_sql(db, ['CREATE EXTENSION IF NOT EXISTS "pgcrypto"'])
    assert DOCTOR_CODE not in diagnose(db, graph, rehearse=False).codes
    done = run_cli("upgrade", "24.1", "--db", db.secret(), "--yes", "--no-backup")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(read_rows(db)) == AT_24_1
