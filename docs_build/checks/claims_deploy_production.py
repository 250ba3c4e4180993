"""More checks behind the production page (``docs/explanation/production.md``) and the from-migrate task
page (``docs/tasks/from-migrate.md``): the deploy files as they are, Galaxy's upgrade and failure code
read from the installed package, PostgreSQL's own failure messages provoked on a scratch database, the
Tool Shed's migrations read from its wheel, and the from-migrate runbook's wiring."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

from docs_build.checks import experiments_production  # noqa: F401  (registers the experiments)
from docs_build.checks.claim_registry import _graph, _source, check
from docs_build.checks.experiments import experiment
from runbooks.paths import PROJECT_ROOT
from runbooks.settings import DB_URL_ENV, HOME_ENV

DEPLOY = PROJECT_ROOT / "deploy"
PAGE = PROJECT_ROOT / "docs" / "explanation" / "production.md"
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


# -- the deploy files ---------------------------------------------------------------------------------


def _tasks() -> list[dict]:
    return yaml.safe_load((DEPLOY / "ansible" / "tasks" / "upgrade.yml").read_text(encoding="utf-8"))


@check
def deploy_playbook_and_job_run_the_tool_steps():
    """The play includes the tasks file (usable from a role alone); the Job runs the tool's rehearsal and
    upgrade; both run the tool, never Galaxy's manage_db.sh."""
    play = yaml.safe_load((DEPLOY / "ansible" / "upgrade.yml").read_text(encoding="utf-8"))
    included = [task for task in play[0]["tasks"] if "ansible.builtin.include_tasks" in task]
    assert [task["ansible.builtin.include_tasks"] for task in included] == ["tasks/upgrade.yml"]
    job = _job()
    commands = [c["command"] for c in job["spec"]["template"]["spec"]["initContainers"]]
    commands += [c["command"] for c in job["spec"]["template"]["spec"]["containers"]]
    assert [c[:2] for c in commands] == [["galaxy-migrations", "upgrade"]] * 2 and "--rehearse" in commands[0]
    text = (DEPLOY / "ansible" / "tasks" / "upgrade.yml").read_text() + str(commands)
    assert "manage_db" not in text


@check
def playbook_reads_json_and_exit_codes():
    """status --json, a rehearsal (run in --check mode too), the upgrade with --json, status --json again;
    every decision on an exit code or a JSON field, none on words in the output."""
    tasks = _tasks()
    argv = [str(task.get("ansible.builtin.command", {}).get("argv", "")) for task in tasks]
    steps = [a for a in argv if a]
    assert "'status', '--json'" in steps[0] and "'--rehearse', '--json'" in steps[1]
    assert "'upgrade', galaxy_migrations_target, '--yes', '--json'" in steps[2] and "'status', '--json'" in steps[3]
    rehearsal = next(t for t in tasks if "'--rehearse'" in str(t))
    assert rehearsal.get("check_mode") is False  # runs in --check mode: it changes nothing
    conditions = " ".join(str(t.get(key, "")) for t in tasks for key in ("failed_when", "changed_when", "when"))
    assert ".rc" in conditions and "from_json" in conditions
    assert not re.search(r"in (\w+)\.std(out|err)\b|search\(|regex", conditions), conditions


@check
def playbook_variables(command="galaxy-migrations", target="head"):
    defaults = yaml.safe_load((DEPLOY / "ansible" / "defaults.yml").read_text(encoding="utf-8"))
    names = ["db_url", "galaxy_root", "command", "target", "lock_timeout", "retries", "home"]
    assert list(defaults) == [f"galaxy_migrations_{name}" for name in names], list(defaults)
    assert defaults["galaxy_migrations_command"] == command and defaults["galaxy_migrations_target"] == target
    tasks = (DEPLOY / "ansible" / "tasks" / "upgrade.yml").read_text(encoding="utf-8")
    assert "galaxy_migrations_home" in tasks and HOME_ENV in tasks  # where the tool writes its backups


def _job() -> dict:
    documents = yaml.safe_load_all((DEPLOY / "kubernetes" / "galaxy-migrations-job.yaml").read_text(encoding="utf-8"))
    return next(d for d in documents if d["kind"] == "Job")


@check
def kubernetes_job_never_retries_and_keeps_the_backup(backoff=0):
    job = _job()
    pod = job["spec"]["template"]["spec"]
    assert job["apiVersion"] == "batch/v1" and job["spec"]["backoffLimit"] == backoff
    assert pod["restartPolicy"] == "Never" and [c["name"] for c in pod["initContainers"]] == ["rehearse"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert "secretKeyRef" in env[DB_URL_ENV]["valueFrom"]
    mount = pod["containers"][0]["volumeMounts"][0]
    assert env[HOME_ENV]["value"] == mount["mountPath"]  # the backups land on the volume
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert "persistentVolumeClaim" in volume
    readme = (DEPLOY / "kubernetes" / "README.md").read_text(encoding="utf-8")
    assert "FROM ${GALAXY_IMAGE}" in readme and "pip install /tmp/galaxy_migration_runbooks-" in readme


# -- the page's outputs ---------------------------------------------------------------------------------


@check
def production_outputs_are_built_from_experiments():
    """Each generated block of the page is a snippet that reads an experiment run at build time."""
    from docs_build.checks import snippets_production

    names = re.findall(r"<!-- generated: ([a-z0-9-]+) -->", PAGE.read_text(encoding="utf-8"))
    assert names and set(names) <= set(snippets_production.PRODUCTION_SNIPPETS)
    for name in names:
        source = inspect.getsource(snippets_production.PRODUCTION_SNIPPETS[name])
        assert 'experiment("production-' in source or "experiment(" in source, name


# -- Galaxy's upgrade, and the tool's --------------------------------------------------------------------


@check
def galaxy_upgrade_is_one_alembic_command_per_branch_in_one_transaction():
    from galaxy.model.migrations.dbscript import DbScript

    assert inspect.getsource(DbScript._upgrade_to_head).count("_upgrade_to_revision(") == 2
    assert '"gxy@head"' in inspect.getsource(DbScript._upgrade_to_head)
    env = _source("alembic/env.py")
    assert "with context.begin_transaction():\n        try:\n            context.run_migrations()" in env
    assert "transaction_per_migration" not in env  # one transaction for every revision of the command


@check
def lock_timeout_is_one_call_per_revision_with_retries():
    """One Galaxy call per revision (each commits on its own), PostgreSQL's lock_timeout on each, a timed-out
    call tried again from where it stopped (the calls before it stay committed), ``--retries`` times."""
    from runbooks.cli import main
    from runbooks.tasks import lock_wait

    assert 'GalaxyCall("upgrade", rid, f"one revision: {rid}") for rid in plan.revisions' in inspect.getsource(
        lock_wait.stepped
    )
    source = inspect.getsource(lock_wait.apply_with_lock_timeout)
    assert "lock_timeout=policy.setting" in source and "if len(attempts) > policy.retries:" in source
    assert "calls = calls[calls.index(outcome.failed_call) :]" in source
    assert 'say(f"lock timeout ({policy.setting}) on try {len(attempts)}: {attempts[-1].describe()}")' in source
    assert "one Galaxy call per revision, each its own transaction" in inspect.getsource(main)


@check
def lock_experiment_reads_a_table_a_pending_revision_alters(release, table, position):
    """The experiment's database is made at ``release``; its idle session read ``table``; the revision
    it stops at is the ``position``-th pending one, and it alters that table."""
    source = inspect.getsource(experiments_production._pg_lock_timeout)
    assert f'"--release", "{release}"' in source and f'table="{table}"' in source
    runs = experiment("production-pg-lock-timeout")
    planned = re.findall(r"^  ([0-9a-f]{12}) \(gxy\)", runs["timed_out"]["stdout"], re.M)
    stopped = planned[ORDINALS.index(position)]
    assert f"read back: d4a650f47a3c, {planned[ORDINALS.index(position) - 1]}" in runs["timed_out"]["stdout"]
    body = _graph().revisions[stopped].path.read_text(encoding="utf-8")
    assert f'"{table}"' in body or f"'{table}'" in body, stopped


@check
def failure_table_sessions_and_read_back():
    """The table's first and third rows: the refusal names sessions from pg_stat_activity; NOT DONE says
    what was read back; the same command finishes once the session is gone."""
    from runbooks.cli import render
    from runbooks.database import sessions
    from runbooks.tasks import change

    assert "other sessions would block this change" in inspect.getsource(change.check_sessions)
    assert "FROM pg_stat_activity" in sessions._SESSIONS_SQL and "_SESSIONS_SQL" in inspect.getsource(
        sessions.postgresql_sessions
    )
    assert "NOT DONE" in inspect.getsource(render.outcome_text) and "read back" in inspect.getsource(render)
    runs = experiment("production-pg-lock-timeout")
    assert "NOT DONE" in runs["timed_out"]["stdout"] and runs["again"]["rc"] == 0


@check
def failure_table_restore_is_printed_with_the_backup():
    from runbooks.cli import render

    source = inspect.getsource(render.outcome_text)
    assert "if change.backup:" in source and "restore_command(change)" in source
    assert 'command_line("restore", path, "--yes"' in inspect.getsource(render.restore_command)


@check
def postgresql_statement_timeout_and_deadlock_messages():
    """Provoked on a scratch database: a role's statement_timeout cancels the statement (and ALTER ROLE …
    SET statement_timeout = 0 lifts it for new sessions); a deadlock's message names the other process.
    Galaxy's env.py catches the deadlock (40P01) and advises shutting down Galaxy's processes."""
    import threading

    import psycopg2

    from docs_build.checks.experiments import _pg, _pg_scratch, scratch_name
    from runbooks.database.urls import DatabaseUrl

    name, role = scratch_name("failures"), "rb_check_timeout"
    url = _pg_scratch(name)
    _pg(f"DROP ROLE IF EXISTS {role}")
    _pg(f"CREATE ROLE {role} LOGIN")
    as_role = DatabaseUrl.parse(url).url.set(username=role, password=None).render_as_string(hide_password=False)
    try:
        _pg(f"ALTER ROLE {role} SET statement_timeout = '50ms'")
        conn = psycopg2.connect(as_role)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_sleep(1)")
            raise AssertionError("no statement timeout")
        except psycopg2.errors.QueryCanceled as error:
            assert "canceling statement due to statement timeout" in str(error)
        finally:
            conn.close()
        _pg(f"ALTER ROLE {role} SET statement_timeout = 0")
        conn = psycopg2.connect(as_role)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(0.2)")  # lifted for the new session
        conn.close()
        a, b = psycopg2.connect(url), psycopg2.connect(url)
        with a.cursor() as cur:
            cur.execute("CREATE TABLE one (id int); CREATE TABLE two (id int)")
        a.commit()
        with a.cursor() as cur:
            cur.execute("LOCK TABLE one")
        with b.cursor() as cur:
            cur.execute("LOCK TABLE two")
        errors = []

        def lock(conn, table):
            try:
                with conn.cursor() as cur:
                    cur.execute(f"LOCK TABLE {table}")
            except psycopg2.errors.DeadlockDetected as error:
                errors.append(str(error))
                conn.rollback()

        other = threading.Thread(target=lock, args=(a, "two"))
        other.start()
        lock(b, "one")
        other.join(10)
        a.close(), b.close()
        assert len(errors) == 1 and "deadlock detected" in errors[0], errors
        assert re.search(r"Process \d+ waits for .* blocked by process \d+", errors[0]), errors[0]
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg(f"DROP ROLE IF EXISTS {role}")
    env = _source("alembic/env.py")
    assert '"40P01"' in env and "shut down all Galaxy procesess during database migration" in env


@check
def plan_marks_data_fixes_and_analyze_refreshes_statistics():
    from docs_build.checks.experiments import _pg, _pg_scratch, scratch_name
    from runbooks.cli.render import plan_text
    from runbooks.code import effects

    assert "data fix: changes rows that a downgrade does not restore" in inspect.getsource(effects)
    assert "effects(revision).notes(plan.direction, dialect)" in inspect.getsource(plan_text)
    name = scratch_name("analyze")
    _pg_scratch(name)
    try:
        _pg("CREATE TABLE t AS SELECT generate_series(1, 5000) AS id", name)
        before = _pg("SELECT reltuples FROM pg_class WHERE relname = 't'", name)
        _pg("VACUUM ANALYZE t", name)
        after = _pg("SELECT reltuples FROM pg_class WHERE relname = 't'", name)
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert before != after and "5000" in after, (before, after)


# -- the Tool Shed --------------------------------------------------------------------------------------


@check
def tool_shed_is_configured_and_migrated_by_its_own_script():
    """From the galaxy-tool-shed wheel of galaxy-data's release (downloaded, never installed): its scripts
    read ``tool_shed.yml`` and name ``manage_toolshed_db.sh``; Galaxy's tsi branch is the install model."""
    from importlib import metadata

    from galaxy.model.tool_shed_install import ToolShedRepository

    found = experiment("production-tool-shed")
    assert "tool_shed" in found["config_names"] and found["config_prefix"] == "TOOL_SHED_CONFIG_"
    with tempfile.TemporaryDirectory(prefix="claims-") as folder:
        version = metadata.version("galaxy-data")
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"galaxy-tool-shed=={version}"]
        subprocess.run([*command, "-d", folder], check=True, capture_output=True, timeout=600)
        wheel = zipfile.ZipFile(next(Path(folder).glob("galaxy_tool_shed-*.whl")))
        text = wheel.read("tool_shed/webapp/model/migrations/__init__.py").decode()
    assert '"manage_toolshed_db.sh upgrade"' in text
    assert ToolShedRepository.__tablename__ == "tool_shed_repository"  # tsi: the tools a Galaxy installed
