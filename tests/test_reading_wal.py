"""Reading never writes, on a WAL database too: a read-write open would checkpoint the WAL into the file.

A Galaxy SQLite database in WAL mode whose writer ended without closing (killed, or still running)
keeps committed pages in ``DB-wal``. A read-write connection's close checkpoints them into the
database file and removes the WAL: a write. ``status`` must read them (they are committed) and
leave both files as they were.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import file_digest, run_cli

WRITER = """
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode = WAL")
c.execute("PRAGMA wal_autocheckpoint = 0")
c.execute("UPDATE alembic_version SET version_num = '9930b68c85af' WHERE version_num = 'fac9c76612f9'")
os._exit(0)  # committed, never checkpointed: the pages stay in the WAL
"""


def test_status_on_a_wal_database_leaves_the_file_and_its_wal_alone(sqlite_db):
    db = sqlite_db("head")
    subprocess.run([sys.executable, "-c", WRITER, str(db.sqlite_path)], check=True)
    wal = Path(f"{db.sqlite_path}-wal")
    assert wal.stat().st_size > 0
    before = (file_digest(db.sqlite_path), file_digest(wal))
    result = run_cli("status", "--json", "--db", db.secret())
    assert "9930b68c85af" in json.loads(result.stdout)["alembic_version_rows"], result.stderr  # the WAL was read
    assert wal.exists() and (file_digest(db.sqlite_path), file_digest(wal)) == before
