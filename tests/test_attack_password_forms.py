"""Attacks: a password outside the ``user:password@`` slot of the URL.

libpq also takes it as ``?password=…`` (and ``sslpassword``), and a password with an unencoded
``@`` puts its tail where the host goes. None of it may be shown: not in ``str(db)``, the
``Database:`` line, a printed command, a backup's manifest, nor an error.
"""

from __future__ import annotations

import pytest

from runbooks.database.backup import make_backup
from runbooks.database.urls import DatabaseUrl, mask_text
from runbooks.tasks.printed_commands import for_url

from attacks import PASSWORD, assert_no_crash, attack
from conftest import run_cli

FORMS = [
    attack("quoting", "a password as ?password= in a PostgreSQL URL", "masked everywhere").param(
        f"postgresql://postgres@127.0.0.1:5432/galaxy?password={PASSWORD}"
    ),
    attack("quoting", "a password as ?sslpassword= and password= together", "masked everywhere").param(
        f"postgresql://postgres@127.0.0.1:5432/galaxy?sslmode=prefer&password={PASSWORD}&sslpassword={PASSWORD}"
    ),
    attack("quoting", "a password with an unencoded @ (pa@SECRET)", "masked; the host is the host").param(
        f"postgresql://postgres:pa@{PASSWORD}@127.0.0.1:5432/galaxy"
    ),
]


@pytest.mark.parametrize("text", FORMS)
def test_every_rendering_hides_the_password(text):
    db = DatabaseUrl.parse(text)
    shown = [str(db), repr(db), db.masked(), " ".join(for_url(db).words())]
    shown.append(mask_text(f"connection to {text} failed"))
    for line in shown:
        assert PASSWORD not in line, line
    assert db.url.host == "127.0.0.1" and db.password and PASSWORD in db.password


@attack("quoting", "status and a backup with ?password= in the URL", "no password in output or the manifest")
def test_query_password_never_printed_or_saved(pg_db, tmp_path):
    db = pg_db("26.0")
    url = f"{db.secret()}?password={PASSWORD}"
    for result in (run_cli("status", "--db", url), run_cli("status", "--db", url, "--json")):
        assert_no_crash(result)  # the password in none of it
        assert result.returncode == 1 and "behind" in result.stdout, result.stdout + result.stderr  # 26.0: behind
    backup = make_backup(DatabaseUrl.parse(url), tmp_path / "backups")
    assert PASSWORD not in backup.manifest.read_text()


@attack("quoting", "an unencoded @ in the password, database unreachable", "one line, no part of the password")
def test_at_sign_password_error_shows_nothing_of_it():
    result = run_cli("status", "--db", f"postgresql://galaxy:pa@{PASSWORD}@127.0.0.1:1/galaxy")
    assert_no_crash(result)
    assert result.returncode == 2 and "127.0.0.1:1" in result.stderr, result.stderr
