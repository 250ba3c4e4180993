"""Claims about a separate tool shed install database and Galaxy's database states (issue 25).

``docs/explanation/database-states.md`` and the troubleshooting sections on ``branch-in-wrong-database``,
``install-tables-in-galaxy-database`` and ``search-path-shadows``. The pair experiments run once per
process (``functools.cache``) on SQLite files Galaxy's own initialization made, with Galaxy's own
``DbScript`` and startup check; the search_path one on a PostgreSQL database 26.0 made itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from docs_build.checks.claim_registry import _env, _graph, _source, check
from runbooks.paths import PROJECT_ROOT

TSI_CODES = ("branch-in-wrong-database", "install-tables-in-galaxy-database")


def _shared(name: str, make) -> dict:
    """``make()``'s result as JSON, made once for every process that asks (two test workers, a build):
    the first makes it under a lock, the others wait and read it. Keyed by galaxy-data's version and the
    source of this module and of the ``runbooks`` package, so a change to either makes it again."""
    from docs_build.site_build.execution import file_lock
    from docs_build.site_build.user_cache import CLAIMS
    from runbooks.paths import write_whole

    sources = [Path(__file__), *sorted((PROJECT_ROOT / "runbooks").rglob("*.py"))]
    digest = hashlib.sha256(b"\0".join(path.read_bytes() for path in sources)).hexdigest()[:12]
    path = CLAIMS / f"install-states-{metadata.version('galaxy-data')}-{digest}" / f"{name}.json"
    with file_lock(path.with_name(f"{name}.lock")):
        if not path.exists():
            write_whole(path, json.dumps(make(), default=sorted))
    return json.loads(path.read_text())


def _rows(db) -> list[str]:
    from runbooks.database.connections import inspect_database

    return sorted(inspect_database(db).alembic_rows or ())


def _tables(db) -> frozenset[str]:
    from runbooks.database.connections import inspect_database

    return frozenset(inspect_database(db).tables)


def _codes(report) -> dict[str, str]:
    return {f.code: f.severity for f in report.findings}


@cache
def _pair_experiment() -> dict:
    return _shared("pair", _pair_made)


def _pair_made() -> dict:
    """What Galaxy and this tool do with a pair, a stray tsi row and a combined database given an install one."""
    from runbooks.database.scratch import copy_database, run_statements
    from runbooks.database.urls import DatabaseUrl
    from runbooks.doctor.pair_diagnosis import diagnose_pair
    from runbooks.galaxy.commands import initialize, run_dbscript, verdict
    from runbooks.tasks.pair_status import pair_status
    from runbooks.tasks.status import get_status

    graph, env, seen = _graph(), _env(), {}
    with tempfile.TemporaryDirectory(prefix="claims-install-") as folder:
        url = lambda name: DatabaseUrl.parse(f"sqlite:///{Path(folder) / name}.sqlite")  # noqa: E731
        galaxy, install = url("galaxy"), url("install")
        initialize(galaxy, env, install_db=install)  # Galaxy's first start with install_database_connection
        seen["pair_rows"] = (_rows(galaxy), _rows(install))
        seen["pair_status"] = pair_status(galaxy, install, graph, env).is_healthy
        seen["alone_status"] = get_status(galaxy, graph, env).state
        seen["pair_codes"] = _codes(diagnose_pair(galaxy, install, graph, env, rehearse=False))
        combined_alone = url("combined-alone")  # a combined database named as the install database
        initialize(combined_alone, env)
        found = diagnose_pair(galaxy, combined_alone, graph, env, rehearse=False).findings
        seen["gxy_in_install"] = [r["branch"] for f in found if f.code == TSI_CODES[0] for r in f.details["rows"]]
        alone = url("alone")
        copy_database(galaxy, alone)
        seen["alone_verdict"] = verdict(alone, env).split(":")[0]
        seen["alone_after"] = (_rows(alone), _tables(alone))
        seen["cli"] = _pair_commands(galaxy, install, Path(folder))
        # manage_db.sh upgrade tsi@head with install_database_connection set, then the section's fix
        stray = url("stray")
        copy_database(galaxy, stray)
        run_dbscript(stray, "upgrade", env=env, install_db=install, revision="tsi@head")
        seen["stray_rows"] = (_rows(stray), _rows(install))
        seen["stray_codes"] = _codes(diagnose_pair(stray, install, graph, env, rehearse=False))
        seen["stray_verdict"] = verdict(stray, env, install_db=install)
        before = _tables(stray)
        run_dbscript(stray, "downgrade", env=env, install_db=install, revision="tsi@base")
        seen["fixed_rows"] = (_rows(stray), _rows(install), _tables(stray) == before)
        seen["fixed_codes"] = _codes(diagnose_pair(stray, install, graph, env, rehearse=False))
        # a combined database given its own install database: Galaxy's startup makes the new one
        combined, new_install = url("combined"), url("new-install")
        copy_database(combined_alone, combined)
        initialize(combined, env, install_db=new_install)
        seen["moved_rows"] = (_rows(combined), _rows(new_install))
        found = diagnose_pair(combined, new_install, graph, env, rehearse=False)
        seen["moved_codes"] = _codes(found)
        seen["moved_tables"] = next(f.details["tables"] for f in found.findings if f.code == TSI_CODES[1])
        seen["moved_verdict"] = verdict(combined, env, install_db=new_install)
        run_dbscript(combined, "downgrade", env=env, install_db=new_install, revision="tsi@base")
        run_statements(combined, [f"DROP TABLE {table}" for table in seen["moved_tables"]])
        seen["moved_fixed_codes"] = _codes(diagnose_pair(combined, new_install, graph, env, rehearse=False))
        seen["moved_fixed_verdict"] = verdict(combined, env, install_db=new_install)
        seen["moved_fixed_rows"] = (_rows(combined), _rows(new_install))
    return seen


def _pair_commands(galaxy, install, folder: Path) -> dict:
    """This tool's upgrade, downgrade and restore on a copy of the pair, the gxy branch one release behind."""
    from runbooks.cli.main import main
    from runbooks.database.scratch import copy_database
    from runbooks.database.urls import DatabaseUrl
    from runbooks.environ import temporary_environ
    from runbooks.galaxy.commands import run_dbscript
    from runbooks.settings import HOME_ENV
    from runbooks.testing.galaxy_states import midway

    g, i = (DatabaseUrl.parse(f"sqlite:///{folder / name}.sqlite") for name in ("cli-gxy", "cli-tsi"))
    copy_database(galaxy, g)
    copy_database(install, i)
    run_dbscript(g, "downgrade", env=_env(), install_db=i, revision=midway(_graph()))
    named, seen = ["--db", g.secret(), "--install-db", i.secret()], {"start": (_rows(g), _rows(i))}
    out = io.StringIO()
    with temporary_environ({HOME_ENV: str(folder / "home")}), contextlib.redirect_stdout(out):
        with contextlib.redirect_stderr(io.StringIO()):
            seen["upgrade"] = main(["upgrade", "--yes", "--json", *named])
            report = json.loads(out.getvalue())
            seen["upgraded"] = (_rows(g), _rows(i))
            seen["backup"] = sorted(k for k in report["backup"] if k in ("path", "install_path", "set"))
            seen["downgrade"] = main(["downgrade", "base", "--yes", "--no-backup", *named]), (_rows(g), _rows(i))
            seen["half"] = main(["restore", report["backup"]["path"], "--yes", "--db", g.secret()])
            seen["restore"] = main(["restore", report["backup"]["path"], "--yes", *named]), (_rows(g), _rows(i))
    return seen


# -- docs/explanation/database-states.md --------------------------------------------------------------


def _results() -> list[dict]:
    from docs_build.generated.galaxy_states import RESULTS, RESULTS_POSTGRESQL, load

    return [load(RESULTS), load(RESULTS_POSTGRESQL)]


@check
def galaxy_test_states_are_replayed_on_both_layouts(states: int):
    """The states 1..N of Galaxy's migration tests, for a combined database and each database of a pair."""
    from runbooks.testing.galaxy_states import LAYOUTS, STATES

    numbered = [state for state in STATES if "Galaxy's test" not in STATES[state]]
    assert numbered == list(range(1, states + 1)), STATES
    assert LAYOUTS == ("combined", "separate: gxy", "separate: tsi")
    for found in _results():
        assert {row["state"] for row in found["rows"]} >= set(numbered)
        assert {row["layout"] for row in found["rows"]} == set(LAYOUTS)


@check
def states_are_made_from_real_databases_and_judged_three_ways(releases: list):
    from runbooks.testing import galaxy_states
    from runbooks.testing.galaxy_states import MIGRATE_RELEASES

    legacy = json.loads((PROJECT_ROOT / "tests/fixtures/releases/legacy-manifest.json").read_text())["releases"]
    made = {legacy[r]["sqlite"]["migrate_version"][0][1]: r for r in MIGRATE_RELEASES.values()}
    assert made == {179: "21.9.0", 180: "22.1.1"}, made  # those releases' own databases, Migrate 179 and 180
    short = [f"{r.split('.')[0]}.{int(r.split('.')[1]):02d}" for r in MIGRATE_RELEASES.values()]
    assert short == releases, short
    texts = " ".join(row["made"] for found in _results() for row in found["rows"])
    assert "Galaxy's initialization" in texts and "downgrade to" in texts and "galaxy-data 21.9.0" in texts
    judged = inspect.getsource(galaxy_states.evaluate)
    assert all(word in judged for word in ("get_status(", "diagnose(", "verdict("))
    assert "verify_database_is_initialized" in inspect.getsource(__import__("runbooks.galaxy.child").galaxy.child)


@check
def a_disagreement_fails_the_test_unless_the_page_explains_it():
    from docs_build.generated.galaxy_states import WHY, key
    from runbooks.testing.galaxy_states import Row

    assert not Row("combined", 6, "", "healthy (up-to-date)", "no errors", "OutdatedDatabaseError", "").agrees
    assert Row("combined", 5, "", "behind", "database-behind", "OutdatedDatabaseError", "").agrees
    for found in _results():
        assert {key(row) for row in found["rows"] if not row["agrees"]} == set(WHY), found["dialect"]
    test = (PROJECT_ROOT / "tests" / "test_galaxy_states.py").read_text()
    assert "assert disagreements == set(WHY)" in test and test.count("_disagreements_explained(") >= 3


@check
def galaxy_reads_the_install_database_url(variable: str):
    """Galaxy's own configuration reader: the install URL is the galaxy one unless the key or the variable says."""
    from galaxy.model.migrations.scripts import get_configuration_from_file

    from runbooks.environ import temporary_environ

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "galaxy.yml"
        config.write_text("galaxy:\n  database_connection: sqlite:///g.sqlite\n")
        with temporary_environ({variable: None}):
            gxy, tsi, _ = get_configuration_from_file(folder, str(config))
            assert tsi.url == gxy.url == "sqlite:///g.sqlite"
            config.write_text(config.read_text() + "  install_database_connection: sqlite:///i.sqlite\n")
            assert get_configuration_from_file(folder, str(config))[1].url == "sqlite:///i.sqlite"
        with temporary_environ({variable: "sqlite:///env.sqlite"}):
            assert get_configuration_from_file(folder, str(config))[1].url == "sqlite:///env.sqlite"


@check
def each_database_of_a_pair_has_its_own_version_table():
    gxy_rows, tsi_rows = _pair_experiment()["pair_rows"]
    assert gxy_rows == _graph().heads("gxy") and tsi_rows == _graph().heads("tsi")


@check
def the_tool_reads_both_urls(variable: str):
    from runbooks.cli.main import build_parser
    from runbooks.code import galaxy_config
    from runbooks.settings import GALAXY_TSI_OVERRIDE_ENV, INSTALL_DB_URL_ENV

    assert INSTALL_DB_URL_ENV == variable
    actions = build_parser()._actions  # noqa: SLF001
    status = next(a for a in actions if a.choices and "status" in a.choices).choices["status"]
    assert "--install-db" in status.format_help() and "--galaxy-root" in status.format_help()
    reader = inspect.getsource(galaxy_config.configured_install_database)
    assert "GALAXY_TSI_OVERRIDE_ENV" in reader and "INSTALL_KEY" in reader
    galaxy_reads_the_install_database_url(GALAXY_TSI_OVERRIDE_ENV)  # the variable Galaxy's own reader obeys


@check
def a_pair_is_migrated_backed_up_and_restored_as_one():
    seen, gxy, tsi = _pair_experiment()["cli"], _graph().heads("gxy"), _graph().heads("tsi")
    start = seen["start"]
    assert start[0] != gxy and start[1] == tsi, start
    assert seen["upgrade"] == 0 and seen["upgraded"] == [gxy, tsi], seen
    assert seen["backup"] == ["install_path", "path", "set"], seen["backup"]  # both databases, one set
    assert seen["downgrade"] == [0, [[], []]], seen["downgrade"]  # each database to its branch's base
    assert seen["half"] == 2 and seen["restore"] == [0, start], seen


@check
def status_and_troubleshoot_judge_each_database_on_its_branch():
    seen = _pair_experiment()
    assert seen["pair_status"] and seen["alone_status"] == "behind", (seen["pair_status"], seen["alone_status"])
    assert not [code for code, severity in seen["pair_codes"].items() if severity == "error"], seen["pair_codes"]


@check
def a_stray_row_and_left_tables_are_findings():
    seen = _pair_experiment()
    assert set(TSI_CODES) <= set(seen["moved_codes"]), seen["moved_codes"]
    assert seen["moved_codes"][TSI_CODES[0]] == "error" and seen["moved_codes"][TSI_CODES[1]] == "warning"


@check
def a_plain_upgrade_moves_both_databases():
    from galaxy.model.migrations.dbscript import DbScript

    body = inspect.getsource(DbScript._upgrade_to_head)  # noqa: SLF001
    assert body.index('"sqlalchemy.url", self.gxy_url') < body.index('"gxy@head"') < body.index("self.tsi_url")
    assert body.index("self.tsi_url") < body.index('"tsi@head"')
    assert "self.tsi_url" not in _source("dbscript.py").replace(body, "").replace("self.tsi_url = tsi_config.url", "")


@check
def an_explicit_tsi_revision_goes_to_the_galaxy_database():
    seen = _pair_experiment()
    stray_rows, install_rows = seen["stray_rows"]
    assert set(_graph().heads("tsi")) <= set(stray_rows) and install_rows == _graph().heads("tsi")
    assert "branch-in-wrong-database" in seen["stray_codes"], seen["stray_codes"]


@check
def a_forgotten_install_database_is_made_again_in_the_galaxy_database():
    seen = _pair_experiment()
    from runbooks.code.install_model import install_tables

    rows, tables = seen["alone_after"]
    assert seen["alone_verdict"] == "OK" and install_tables(_env()) <= set(tables) and _graph().heads("tsi")[0] in rows


# -- docs/tasks/troubleshoot.md: a separate install database -----------------------------------------


@check
def a_gxy_row_in_the_install_database_is_found():
    assert _pair_experiment()["gxy_in_install"] == ["gxy"], _pair_experiment()["gxy_in_install"]


@check
def search_path_finding_follows_current_schema():
    from runbooks.database import search_path
    from runbooks.findings.catalogue import BY_CODE

    assert "current_schema()" in search_path.PLACE and "to_regclass('alembic_version')" in search_path.PLACE
    assert "create its tables there" in BY_CODE["search-path-shadows"].summary


@check
def galaxy_starts_with_a_stray_row_and_left_tables(verdict: str):
    seen = _pair_experiment()
    assert seen["stray_verdict"] == verdict and seen["moved_verdict"] == verdict, (
        seen["stray_verdict"],
        seen["moved_verdict"],
    )


@check
def downgrade_tsi_base_removes_only_the_stray_row():
    seen = _pair_experiment()
    galaxy_rows, install_rows, same_tables = seen["fixed_rows"]
    assert galaxy_rows == _graph().heads("gxy") and install_rows == _graph().heads("tsi") and same_tables
    assert not [c for c, s in seen["fixed_codes"].items() if s == "error"], seen["fixed_codes"]
    from docs_build.checks.claim_registry import _downgrade_does_nothing

    assert all(_downgrade_does_nothing(p) for p in _env().versions_dir("tsi").glob("*.py"))


@check
def dropping_the_left_tables_clears_the_pair():
    seen = _pair_experiment()
    assert not set(TSI_CODES) & set(seen["moved_fixed_codes"]), seen["moved_fixed_codes"]
    assert seen["moved_fixed_verdict"] == "OK"
    assert seen["moved_fixed_rows"] == [_graph().heads("gxy"), _graph().heads("tsi")]


# -- docs/tasks/troubleshoot.md: a schema before Galaxy's in the search_path -------------------------


@cache
def _search_path_experiment() -> dict:
    return _shared("search-path", _search_path_made)


def _search_path_made() -> dict:
    """A database Galaxy 26.0 made on PostgreSQL, a user's schema zz before public; the section's fix, then upgrade."""
    import gzip

    from docs_build.checks.experiments import PG_SERVER
    from runbooks.cli.main import main
    from runbooks.database.backup import load_sql_file
    from runbooks.database.connections import run_admin_sql, run_autocommit
    from runbooks.database.scratch import scratch_database
    from runbooks.database.urls import DatabaseUrl
    from runbooks.doctor.diagnosis import diagnose
    from runbooks.tasks.baseline import RELEASES

    graph, seen = _graph(), {}
    server = DatabaseUrl.parse(f"{PG_SERVER}/postgres")
    zz = "SELECT count(*), string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns"
    with scratch_database(server, create=True, name="search_path") as scratch, tempfile.TemporaryDirectory() as folder:
        db = scratch.db
        plain = Path(folder) / "26.0.sql"
        plain.write_bytes(gzip.decompress((RELEASES / "galaxy-data-26.0.2.postgresql.sql.gz").read_bytes()))
        load_sql_file(plain, db)
        run_autocommit(db, ["CREATE SCHEMA zz", "CREATE TABLE zz.job (id integer PRIMARY KEY, note text)"])
        run_admin_sql(db, f'ALTER DATABASE "{db.database_name}" SET search_path = zz, public')
        seen["before"] = _codes(diagnose(db, graph, rehearse=False))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            seen["refused"] = (main(["upgrade", "--yes", "--no-backup", "--db", db.secret()]), _rows(db))
        run_admin_sql(db, f'ALTER DATABASE "{db.database_name}" SET search_path = public')  # the section's fix
        seen["after"] = _codes(diagnose(db, graph, rehearse=False))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            seen["upgrade"] = main(["upgrade", "--yes", "--no-backup", "--db", db.secret()])
        seen["rows"] = _rows(db)
        seen["zz"] = _one_row(db, f"{zz} WHERE table_schema = 'zz'")
    return seen


def _one_row(db, sql: str) -> tuple:
    from runbooks.database.connections import connect_postgresql

    conn = connect_postgresql(db)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return tuple(cursor.fetchone())
    finally:
        conn.close()


@check
def a_schema_before_galaxys_is_found_and_setting_the_path_clears_it():
    seen = _search_path_experiment()
    assert seen["before"].get("search-path-shadows") == "error", seen["before"]
    assert seen["refused"] == [1, ["9930b68c85af", "d4a650f47a3c"]], seen["refused"]  # the pre-flight: nothing moved
    assert "search-path-shadows" not in seen["after"], seen["after"]
    assert seen["upgrade"] == 0 and seen["rows"] == sorted(_graph().heads()), (seen["upgrade"], seen["rows"])
    assert seen["zz"] == [2, "id,note"], seen["zz"]  # the other schema's table, untouched
