"""Claims of the sections on configuration, ``run_alembic.sh``, offline mode, locks and version rows."""

from __future__ import annotations

import inspect

from docs_build.checks import experiments_topics  # noqa: F401  (registers the experiments)
from docs_build.checks.claim_registry import _graph, _migrations_dir, _source, check
from docs_build.checks.experiments import PG_SERVER, experiment


def _side_rows(tag: str) -> set[str]:
    """Merge parents a plain downgrade to ``tag`` keeps: neither the tag's ancestors nor above it."""
    graph = _graph()
    target = graph.release_tags[tag]
    below = graph.ancestors([target])
    above = set(graph.descendants(target))
    parents = {p for m in above for p in graph.revisions[m].parents}
    side = {p for p in parents if p not in below and p not in above}
    return {p for p in side if not any(p in graph.ancestors([q]) - {q} for q in side)}  # the tips only


@check
def plain_downgrade_side_rows_for_25_0_and_25_1(tags=(), sides=()):
    """A plain downgrade to each of ``tags`` keeps the side row at the same place in ``sides``."""
    tags = [tags] if isinstance(tags, str) else tags
    sides = [sides] if isinstance(sides, str) else sides
    assert len(tags) == len(sides)
    for tag, side in zip(tags, sides, strict=True):
        assert _side_rows(str(tag)) == {side}, (tag, _side_rows(str(tag)))
    if not tags:  # the remedy sentence: moving both rows to one revision is needed where a side row stays
        assert _side_rows("25.0") and _side_rows("25.1")


@check
def tag_26_1_lags_the_head(tag):
    graph = _graph()
    assert graph.release_tags[str(tag)] != graph.heads("gxy")[0]
    assert graph.release_tags[str(tag)] in graph.ancestors(graph.heads("gxy"))


# -- where the scripts find the database ------------------------------------------------------------


@check
def tsi_url_defaults_to_gxy_url():
    found = experiment("config-sources")
    assert all(found[k]["tsi"] == found[k]["gxy"] for k in ("no-config", "config-galaxy-yml", "gxy-override"))


@check
def config_file_galaxy_config_and_overrides():
    found = experiment("config-sources")
    assert found["config-galaxy-yml"]["gxy"].endswith("/from_config_galaxy_yml")
    assert found["galaxy-config-other-yml"]["gxy"].endswith("/from_other_yml")
    assert found["gxy-override"]["gxy"].endswith("/from_override")  # the override beats the file


@check
def tsi_override_is_install_database_connection():
    found = experiment("config-sources")
    assert found["tsi-override-install"]["tsi"].endswith("/tsi")
    assert not found["tsi-override-database"]["tsi"].endswith("/tsi")
    assert not found["gxy-override-install"]["tsi"].endswith("/tsi")


@check
def init_reads_only_the_long_galaxy_config_flag():
    found = experiment("config-sources")
    assert found["init --galaxy-config"].endswith("/from_other_yml")
    assert found["init -c"].endswith("/from_config_galaxy_yml")  # -c is ignored by init


@check
def alembic_config_env_var_selects_the_ini():
    from galaxy.model.migrations.base import BaseDbScript

    assert 'os.getenv("ALEMBIC_CONFIG")' in inspect.getsource(BaseDbScript._get_alembic_cfg)


# -- run_alembic.sh, offline mode, tsi-only revisions ----------------------------------------------


@check
def run_alembic_relative_steps_need_a_branch():
    found = experiment("run-alembic")
    assert found["gxy+1"]["rc"] == 0 and found["gxy+1"]["rows"] == ["566b691307a5", "d4a650f47a3c"]
    assert found["gxy-1"]["rc"] == 0 and found["gxy-1"]["rows"] == found["start"]
    assert found["bare+1"]["rc"] == 1 and 'Invalid revision or migration identifier: "+1"' in found["bare+1"]["stderr"]
    assert found["bare+1"]["rows"] == found["start"]


@check
def run_alembic_upgrade_heads_is_gxy_then_tsi():
    from galaxy.model.migrations import scripts

    source = inspect.getsource(scripts.invoke_alembic)
    assert source.index('f"{GXY}@head"') < source.index('f"{TSI}@head"')
    found = experiment("run-alembic")["heads"]
    assert found["rc"] == 0 and found["rows"] == sorted([*_graph().heads("gxy"), *_graph().heads("tsi")])


@check
def offline_downgrade_needs_a_range():
    found = experiment("run-alembic")
    assert found["sql-no-range"]["rc"] != 0
    assert "downgrade with --sql requires <fromrev>:<torev>" in found["sql-no-range"]["error"]
    assert found["sql-range"]["rc"] == 0 and "UPDATE alembic_version" in found["sql-range"]["stdout"]
    assert found["sql-range"]["rows"] == found["heads"]["rows"]  # offline: the database is not touched


@check
def tsi_revision_needs_run_alembic_head_tsi():
    found = experiment("run-alembic")
    assert "versions_tsi/0123456789ab_tsi_change.py" in found["tsi-revision"]["stdout"]
    assert "0123456789ab (tsi) (head)" in found["tsi-heads"]["stdout"]
    from galaxy.model.migrations.dbscript import DbScript

    assert DbScript._add_branch_label(None, "head") == "gxy@head"  # db_dev.sh revision: gxy only


@check
def env_picks_the_url_by_branch_prefix():
    source = _source("alembic/env.py")
    assert 'revision_str.startswith(f"{TSI}@")' in source and "url = urls[TSI]" in source


# -- messages, version rows, stamps, batch leftovers -------------------------------------------------


@check
def galaxy_errors_print_the_url():
    from galaxy.model.migrations.exceptions import DatabaseDoesNotExistError, DatabaseNotInitializedError

    url = "postgresql://galaxy:secret@db/galaxy"
    assert url in str(DatabaseDoesNotExistError(url)) and url in str(DatabaseNotInitializedError(url))


@check
def no_version_table_raises_at_startup():
    import galaxy.model.migrations as migrations

    source = inspect.getsource(migrations.DatabaseStateVerifier._handle_nonempty_database)
    assert source.rstrip().endswith("self._handle_no_version_table()")
    assert "raise NoVersionTableError" in inspect.getsource(migrations.DatabaseStateVerifier._handle_no_version_table)


@check
def alembic_stamp_runs_no_migration():
    from alembic import command

    assert "don't\n    run any migrations" in command.stamp.__doc__


@check
def page_source_invocation_id_added_by_b75f0f4dbcd4():
    text = _graph().revisions["b75f0f4dbcd4"].path.read_text(encoding="utf-8")
    assert 'add_column("page", sa.Column("source_invocation_id"' in text


@check
def alembic_batch_leaves_alembic_tmp_tables():
    from alembic.operations import batch

    assert '"_alembic_tmp_%s" % tablename' in inspect.getsource(batch)


@check
def history_marks_current_and_mergepoints():
    history = experiment("status-order")["galaxy"]["history"]
    assert any("(current)" in line for line in history) and any("(mergepoint)" in line for line in history)


@check
def deadlock_advice_is_to_shut_down_galaxy():
    assert "shut down all Galaxy procesess during database migration" in _source("alembic/env.py")


@check
def util_has_check_functions():
    from galaxy.model.migrations import util

    for name in ("column_exists", "index_exists", "table_exists", "foreign_key_exists", "unique_constraint_exists"):
        assert callable(getattr(util, name)), name


@check
def postgresql_new_foreign_key_with_orphans_fails():
    import psycopg2

    from docs_build.checks.experiments import _pg_scratch, scratch_name

    url = _pg_scratch(scratch_name("fk"))
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE parent (id integer PRIMARY KEY); CREATE TABLE child (parent_id integer)")
            cur.execute("INSERT INTO child VALUES (7)")
            try:
                cur.execute("ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id)")
                raise AssertionError("the foreign key was added over an orphan")
            except psycopg2.errors.ForeignKeyViolation as error:
                assert "violates foreign key constraint" in str(error)
    finally:
        conn.close()
        _pg_scratch(scratch_name("fk"), create=False)


@check
def postgresql_alter_waits_for_an_idle_reader():
    """An ALTER TABLE waits for a session that only read the table and sits idle in transaction."""
    import psycopg2

    from docs_build.checks.experiments import _pg_scratch, scratch_name

    url = _pg_scratch(scratch_name("locks"))
    reader, writer = psycopg2.connect(url), psycopg2.connect(url)
    try:
        with writer.cursor() as cur:
            cur.execute("CREATE TABLE job (id integer)")
        writer.commit()
        with reader.cursor() as cur:
            cur.execute("SELECT count(*) FROM job")  # a read, then idle in transaction
        with writer.cursor() as cur:
            cur.execute("SET lock_timeout = '300ms'")
            try:
                cur.execute("ALTER TABLE job ADD COLUMN x integer")
                raise AssertionError("ALTER TABLE did not wait")
            except psycopg2.errors.LockNotAvailable:
                pass
    finally:
        reader.close()
        writer.close()
        _pg_scratch(scratch_name("locks"), create=False)
    assert PG_SERVER


@check
def database_at_head_has_one_row_per_branch(gxy=None, tsi=None):
    """After Galaxy's upgrade to head, ``alembic_version`` holds one row per branch: each branch's head."""
    graph = _graph()
    rows = experiment("run-alembic")["heads"]["rows"]
    assert rows == sorted([*graph.heads("gxy"), *graph.heads("tsi")]), rows
    assert gxy is None or graph.heads("gxy") == [gxy], graph.heads("gxy")
    assert tsi is None or graph.heads("tsi") == [tsi], graph.heads("tsi")


@check
def verify_databases_runs_gxy_then_tsi():
    """``verify_databases`` runs a verifier for gxy, then one for tsi on the gxy engine unless given its own;
    ``manage_db.sh init`` goes through it too (``verify_databases_via_script``)."""
    import galaxy.model.migrations as migrations

    source = inspect.getsource(migrations.verify_databases)
    assert source.index("DatabaseStateVerifier(gxy_engine, GXY") < source.index("DatabaseStateVerifier(tsi_engine, TSI")
    assert "tsi_engine = tsi_engine or gxy_engine" in source
    assert "verify_databases(" in inspect.getsource(migrations.verify_databases_via_script)


@check
def sqlite_upgrades_stop_at(revision, releases, index):
    """In the upgrade matrix (Galaxy's own upgrade on each release's SQLite fixture), the databases of
    exactly ``releases`` stop at ``revision``, on SQLite's rebuild re-creating ``index``."""
    import json

    from runbooks.paths import PROJECT_ROOT

    cells = json.loads((PROJECT_ROOT / "bench" / "results" / "upgrade_matrix.json").read_text())["cells"]
    sqlite = [c for c in cells if c["dialect"] == "sqlite"]
    stopped = {c["release"]: c for c in sqlite if c.get("stopped_at", "").endswith(revision)}
    assert set(stopped) == {str(r) for r in releases}, sorted(stopped)
    assert all(index in str(c["stops"][0]["error"]) for c in stopped.values())


@check
def run_alembic_passes_both_urls_to_env():
    from galaxy.model.migrations import scripts

    argv = ["run_alembic", "upgrade", "heads"]
    scripts.add_db_urls_to_command_arguments(argv, "G", "T")
    assert argv == ["run_alembic", "-x", "gxy_url=G", "-x", "tsi_url=T", "upgrade", "heads"], argv
    assert "alembic.config.main()" in inspect.getsource(scripts.invoke_alembic)  # Alembic's own command line
    assert (_migrations_dir() / "alembic.ini").is_file()
    assert "context.get_x_argument(as_dictionary=True)" in _source("alembic/env.py")  # where env.py reads them
