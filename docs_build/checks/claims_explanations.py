"""Claims of the explanation pages (upgrade time, merges, the SQLAlchemy Migrate past, SQLite and
PostgreSQL, startup, branches), the home page, the bug-report page and the vendored Mermaid's README:
each against Galaxy's code, SQLite or Alembic run on an in-memory database, the committed benchmark
results, or this project's code and tests."""

from __future__ import annotations

import inspect
import json
import re
import sqlite3
import tempfile
from functools import cache
from pathlib import Path

from docs_build.checks.claim_registry import _graph, check
from runbooks.paths import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
OPERATIONS = {
    "add_column",
    "drop_column",
    "create_table",
    "drop_table",
    "create_index",
    "drop_index",
    "alter_column",
    "create_foreign_key",
    "drop_constraint",
    "create_unique_constraint",
    "execute",
    "rename_table",
    "bulk_insert",
}


@cache
def _scales() -> dict:
    folder = PROJECT_ROOT / "bench" / "results"
    return {s: json.loads((folder / f"scale_{s}.json").read_text()) for s in ("small", "medium", "large")}


def _text(path: str) -> str:
    return (PROJECT_ROOT / path).read_text(encoding="utf-8")


# -- how long will my upgrade take ------------------------------------------------------------------


@check
def migrations_take_the_same_time_at_every_scale():
    """From 20 thousand to 10 million jobs the migrations' own time stays within a factor of two,
    and it is under a third of Galaxy's command's wall time (the rest: Python importing Galaxy)."""
    runs = [r["galaxy"] for r in _scales().values()]
    jobs = [r["generator"]["jobs"] for r in _scales().values()]
    assert max(jobs) >= 100 * min(jobs)
    spent = [run["migrations_s"] for run in runs]
    assert max(spent) <= 2 * min(spent), spent
    assert all(run["migrations_s"] < run["wall_s"] / 3 for run in runs)


@check
def job_waits_as_long_as_its_lock_is_held():
    """The longest wait of a reader and a writer of ``job`` is the time ``job``'s lock was held (to the
    commit), and far longer than the wait on a table no revision locks (``dataset``)."""
    for result in _scales().values():
        block = result["ours"]["longest_block_s"]
        held = max(
            lock["held_s"] for rev in result["galaxy"]["revisions"] for lock in rev["locks"] if lock["table"] == "job"
        )
        for query in ("select job", "update job"):
            assert 0.5 * held <= block[query] <= 1.5 * held, (query, block[query], held)
            assert block[query] >= 5 * block["select dataset"]


@check
def later_queries_queue_behind_a_waiting_alter():
    """A session idle in a transaction that read ``job``; an ALTER TABLE waiting for it; then a plain
    SELECT on ``job`` from a third session waits too (behind the ALTER), until the holder ends."""
    import threading

    import psycopg2

    from docs_build.checks.experiments import _pg_scratch, scratch_name

    url = _pg_scratch(scratch_name("queue"))
    holder, alter, reader = (psycopg2.connect(url) for _ in range(3))
    try:
        with holder.cursor() as cur:
            cur.execute("CREATE TABLE job (id integer)")
        holder.commit()
        with holder.cursor() as cur:
            cur.execute("SELECT count(*) FROM job")  # then idle in transaction

        def altering():
            with alter.cursor() as cur:
                cur.execute("SET lock_timeout = '5s'")
                cur.execute("ALTER TABLE job ADD COLUMN x integer")
            alter.commit()

        waiting = threading.Thread(target=altering)
        waiting.start()
        with reader.cursor() as cur:
            cur.execute("SELECT pg_sleep(0.3)")
            cur.execute("SET lock_timeout = '300ms'")
            try:
                cur.execute("SELECT count(*) FROM job")
                raise AssertionError("the SELECT did not queue behind the waiting ALTER TABLE")
            except psycopg2.errors.LockNotAvailable:
                reader.rollback()
        holder.rollback()  # the holder leaves: the ALTER goes through, then the queue
        waiting.join(10)
        with reader.cursor() as cur:
            cur.execute("SELECT x FROM job")
    finally:
        for conn in (holder, alter, reader):
            conn.close()
        _pg_scratch(scratch_name("queue"), create=False)


@check
def our_command_overlaps_galaxys_import_and_skips_teardown():
    from runbooks.cli import main
    from runbooks.galaxy import worker
    from runbooks.tasks import migrate

    change = inspect.getsource(main.cmd_change)
    assert change.index("warm_up(selection.env)") < change.index("steps.plan_change(") < change.index("run_preflight(")
    assert "os._exit(code)" in inspect.getsource(worker.main)
    assert "rows = read_rows(db)" in inspect.getsource(migrate._outcome)


@check
def a_rehearsal_costs_a_copy_that_starts_while_galaxy_loads():
    from runbooks.cli import main
    from runbooks.tasks import rehearsal

    assert "scratch_database(copy_of=db)" in inspect.getsource(rehearsal._full)
    change = inspect.getsource(main.cmd_change)
    assert change.index("warm_up(selection.env)") < change.index("steps.run_rehearsal(")
    small, large = _scales()["small"], _scales()["large"]
    assert small["rehearsal"]["wall_s"] - small["ours"]["wall_s"] < 2
    copy = min(large["rehearsal_copy"]["file_copy_s"], large["rehearsal_copy"]["wal_log_s"])
    assert copy > 5 * large["galaxy"]["wall_s"]


@check
def copy_strategy_by_size(gib):
    from runbooks.database import connections

    assert connections.FILE_COPY_FROM_BYTES == gib * 1024**3
    copies = [r["rehearsal_copy"]["wal_log_s"] for r in _scales().values()]
    assert copies == sorted(copies), copies  # WAL_LOG's time grows with the size


# -- merges -----------------------------------------------------------------------------------------


@check
def revision_graph_draws_merges_as_hexagons():
    from docs_build.generated import graph

    assert 'shape = ("{{", "}}") if revision.is_merge' in inspect.getsource(graph)


def _status_of(tables: dict[str, tuple[str, list[tuple]]]) -> str:
    from runbooks.database.urls import DatabaseUrl
    from runbooks.tasks.status import get_status

    with tempfile.TemporaryDirectory(prefix="claims-status-") as folder:
        path = Path(folder) / "galaxy.sqlite"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE galaxy_user (id integer)")
            for table, (columns, rows) in tables.items():
                conn.execute(f"CREATE TABLE {table} ({columns})")
                conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        conn.close()
        return get_status(DatabaseUrl.parse(f"sqlite:///{path}"), _graph()).state


@check
def status_names_the_state(state):
    if state == "multiple-current":
        rows = [("c716ee82337b",), ("fb16d09348db",), *((r,) for r in _graph().heads("tsi"))]
        assert _status_of({"alembic_version": ("version_num varchar(32)", rows)}) == state
    else:
        assert state == "legacy-sqlalchemy-migrate"
        migrate = ("repository_id varchar(250), repository_path text, version integer", [("Galaxy", "lib", 179)])
        assert _status_of({"migrate_version": migrate}) == state


# -- the SQLAlchemy Migrate past --------------------------------------------------------------------


@check
def legacy_plan_below_180_is_2201_then_alembic(version=None):
    from runbooks.tasks.legacy_plan import LAST, RELEASE_MIGRATE_VERSIONS, Commands, legacy_steps

    version = version or LAST
    assert LAST == version == RELEASE_MIGRATE_VERSIONS["22.01"]
    commands = Commands(*(f"<{n}>" for n in range(len(Commands.__dataclass_fields__))))
    first, second = legacy_steps(version - 1, "this Galaxy", commands, "head", sqlite=False)
    assert "Galaxy 22.01" in first.code and "manage_db.sh upgrade" in first.action and f"to {version}" in first.result
    assert "Alembic takes over" in second.result
    replay = _text("tests/replays/test_13528_migrate_below_180.py")
    assert 'FIXTURE = "21.9.0.migrate"' in replay and "22.01's own code" in replay and "pg_database" in replay


@check
def sqlite_before_23_stops_at_the_unnamed_session_fkey(revision, following):
    cells = json.loads(_text("bench/results/upgrade_matrix.json"))["cells"]
    old = [c for c in cells if c["dialect"] == "sqlite" and int(c["release"].split(".")[0]) < 23]
    assert old and all(c["stopped_at"].endswith(revision) for c in old)
    assert all("No such constraint: 'job_session_id_fkey'" in c["stops"][0]["error"] for c in old)
    from galaxy.model.database_object_names import build_foreign_key_name

    upgrade = _graph().revisions[revision].path.read_text(encoding="utf-8")
    assert build_foreign_key_name("job", "session_id") == "job_session_id_fkey"
    assert "job_session_fk = build_foreign_key_name(job_table, session_id_column)" in upgrade
    assert "drop_constraint(job_session_fk, job_table)" in upgrade.split("def downgrade")[0]
    assert "params" in _graph().revisions[following].path.read_text(encoding="utf-8")
    test = _text("tests/test_legacy_plan.py")
    assert f"def test_a_2201_database_on_sqlite_stops_at_{revision}(" in test
    assert "--repair" in _text("tests/replays/test_13528_migrate_below_180.py")


@check
def jumped_releases_replay(code=None):
    replay = _text("tests/replays/test_19016_jumped_releases.py")
    code = code or re.search(r'^DOCTOR_CODE = "([a-z-]+)"', replay, re.M)[1]
    assert f'DOCTOR_CODE = "{code}"' in replay and "history_audit" in replay and "175" in replay
    from runbooks.findings.catalogue import BY_CODE

    assert code in BY_CODE


# -- SQLite and PostgreSQL --------------------------------------------------------------------------


@check
def revisions_without_transaction_and_several_changes(rest, several):
    graph = _graph()
    without = [r for r in graph.in_order("gxy") if "with transaction():" not in graph.revisions[r].path.read_text()]
    busy = []
    for rev in without:
        upgrade = graph.revisions[rev].path.read_text().split("def upgrade", 1)[1].split("def downgrade", 1)[0]
        if len([c for c in re.findall(r"\b(\w+)\(", upgrade) if c in OPERATIONS]) > 1:
            busy.append(rev)
    assert (len(without), len(busy)) == (rest, several), (len(without), busy)


@check
def sqlite_alter_table_cannot_alter_a_column_or_add_a_constraint():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a integer)")
    for statement in ("ALTER TABLE t ALTER COLUMN a TYPE bigint", "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)"):
        try:
            conn.execute(statement)
            raise AssertionError(f"SQLite ran {statement}")
        except sqlite3.OperationalError:
            pass


@check
def batch_mode_creates_copies_drops_and_renames():
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import create_engine, event, text

    engine, seen = create_engine("sqlite://"), []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(" ".join(a[2].split())))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (a integer, b integer)"))
        with Operations(MigrationContext.configure(conn)).batch_alter_table("t") as batch:
            batch.alter_column("a", nullable=False)
    steps = [
        s for s in seen if re.match(r"(CREATE TABLE _alembic_tmp_t|INSERT INTO _alembic_tmp_t|DROP TABLE t|ALTER)", s)
    ]
    assert [s.split("(")[0].strip() for s in steps] == [
        "CREATE TABLE _alembic_tmp_t",
        "INSERT INTO _alembic_tmp_t",
        "DROP TABLE t",
        "ALTER TABLE _alembic_tmp_t RENAME TO t",
    ], steps


@check
def util_page_marks_alter_type_helpers():
    from docs_build.generated import galaxy_pages

    assert "alter=issubclass(cls, util.DDLAlterOperation)" in inspect.getsource(galaxy_pages)


# -- startup, branches, the home page ---------------------------------------------------------------


@check
def startup_diagram_is_galaxys_order(version):
    from importlib import metadata

    import galaxy.model.migrations as migrations

    assert metadata.version("galaxy-data") == version
    text = (DOCS / "explanation" / "startup.md").read_text(encoding="utf-8")
    diagram = text[text.index("```mermaid") : text.index("```", text.index("```mermaid") + 3)]
    verifier = migrations.DatabaseStateVerifier
    for name in re.findall(r"\b(_[a-z_]+|is_up_to_date|is_under_version_control)\b", diagram):
        assert hasattr(verifier, name) or hasattr(migrations.AlembicManager, name), name
    assert "def test_startup_diagram_follows_the_verifier(" in _text("tests/test_docs.py")


@check
def startup_exceptions_are_on_the_exceptions_and_troubleshoot_pages():
    from docs_build.generated import galaxy_pages

    text = (DOCS / "explanation" / "startup.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\[\[(\w+)\]\]", text))
    assert named
    page = galaxy_pages.exceptions_page()
    troubleshoot = (DOCS / "tasks" / "troubleshoot.md").read_text(encoding="utf-8")
    for name in named:
        assert f"## {name}" in page or f"`{name}`" in page, name
        assert name in troubleshoot, name


@check
def reference_pages_hold_what_the_links_say():
    """The revision graph draws both branches, the release tags page lists every tag with its gxy
    revision, and the status task page reads the version table."""
    from docs_build.generated import graph, reference

    assert set(graph.BRANCH_TITLES) == {"gxy", "tsi"}
    tags = reference.release_tags_page(_graph())
    assert all(f"`{rev}`" in tags for rev in _graph().release_tags.values() if rev != "base")
    assert "alembic_version" in (DOCS / "tasks" / "status.md").read_text(encoding="utf-8")


@check
def runbooks_run_cell_by_cell_from_their_parameters():
    for path in sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb")):
        cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
        assert "parameters" in cells[0].get("metadata", {}).get("tags", []), path.name
        assert "finish(" in "".join(cells[-1]["source"]), path.name
    from runbooks.settings import DB_URL_ENV

    assert DB_URL_ENV in _text("notebooks/upgrade.ipynb")


@check
def contributing_page_has_its_sections():
    text = (DOCS / "contributing.md").read_text(encoding="utf-8")
    for heading in ("## How the site is made", "## Checks", "## Publish", "## Coverage of the skill"):
        assert heading in text, heading


# -- bug reports and the vendored Mermaid -----------------------------------------------------------


@check
def replay_table_is_read_from_the_replay_tests():
    from docs_build.generated.replays import declared_replays

    found = declared_replays()
    files = sorted(p.name for p in (PROJECT_ROOT / "tests" / "replays").glob("test_*.py"))
    assert [r["file"] for r in found] == files
    assert all(r["report"].startswith("https://github.com/galaxyproject/galaxy/issues/") for r in found)
    assert all(r["galaxy_said"] and r["doctor_code"] for r in found)


@check
def vendored_mermaid_is_the_npm_release(version):
    vendor = DOCS / "assets" / "vendor"
    assert version in (vendor / "mermaid.min.js").read_text(encoding="utf-8")
    assert (vendor / "mermaid.LICENSE").read_text(encoding="utf-8").startswith("The MIT License")


@check
def material_loads_mermaid_from_unpkg_only_without_one():
    import material

    bundles = (Path(material.__file__).parent / "templates" / "assets" / "javascripts").glob("bundle.*.min.js")
    text = "".join(path.read_text(encoding="utf-8") for path in bundles)
    assert re.search(
        r'typeof mermaid=="undefined"[^?]*\?\w+\("https://unpkg\.com/mermaid@\d+/dist/mermaid\.min\.js"', text
    )
    from docs_build.site_build import hooks

    assert 'class="mermaid"' in inspect.getsource(hooks.with_local_mermaid)
