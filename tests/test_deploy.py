"""The deployment files under deploy/, run or checked the way a production pipeline uses them.

The Ansible playbook runs for real (``ansible-playbook -c local``) against SQLite and PostgreSQL
databases Galaxy made at 26.0: ``--check`` rehearses and reports the change without making it, a
real run upgrades and reads back, a second run changes nothing. The results are read from Ansible's
JSON callback, never from its text. The Kubernetes Job is checked against Kubernetes' own schema
and its commands against the tool's own argument parser (there is no cluster here).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runbooks.cli.main import build_parser
from runbooks.database.connections import inspect_database
from runbooks.settings import DB_URL_ENV, HOME_ENV

PROJECT = Path(__file__).resolve().parent.parent
PLAYBOOK = PROJECT / "deploy" / "ansible" / "upgrade.yml"
CALLBACKS = PROJECT / "tests" / "fixtures" / "ansible_callbacks"  # one JSON report per run
JOB = PROJECT / "deploy" / "kubernetes" / "galaxy-migrations-job.yaml"


def run_playbook(db, home: Path, *extra: str) -> dict:
    """One ``ansible-playbook`` run on this host; Ansible's JSON report."""
    env = {k: v for k, v in os.environ.items() if k != DB_URL_ENV}
    env |= {"ANSIBLE_STDOUT_CALLBACK": "stats_json", "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS)}
    env |= {"ANSIBLE_LOCAL_TEMP": str(home / "ansible-tmp")}
    env |= {"ANSIBLE_HOME": str(home / "ansible"), "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    variables = {
        "galaxy_migrations_db_url": db.secret(),
        "galaxy_migrations_command": f"{shlex.quote(sys.executable)} -m runbooks",
        "galaxy_migrations_home": str(home),
        "galaxy_migrations_hosts": "localhost",
    }
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local"]
    command += [str(PLAYBOOK), "-e", json.dumps(variables), *extra]
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    report = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}
    assert result.returncode == 0, (report.get("failures"), result.stderr[-2000:])
    return report


def changed(report: dict) -> int:
    return report["stats"]["localhost"]["changed"]


def rows(db) -> list[str]:
    return sorted(inspect_database(db).alembic_rows or ())


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_playbook_upgrades_verified_honours_check_and_is_idempotent(dialect, sqlite_db, pg_db, graph, tmp_path):
    db = sqlite_db("26.0") if dialect == "sqlite" else pg_db("26.0")
    before = rows(db)
    assert before != sorted(graph.heads())

    checked = run_playbook(db, tmp_path, "--check")
    assert changed(checked) == 1  # the change it would make, reported
    assert rows(db) == before  # and not made
    assert not list(tmp_path.glob("backups/*"))

    upgraded = run_playbook(db, tmp_path)
    assert changed(upgraded) == 1
    assert rows(db) == sorted(graph.heads())  # read back by the playbook, and again here
    assert list((tmp_path / "backups").iterdir())  # the backup the tool made first

    again = run_playbook(db, tmp_path)
    assert changed(again) == 0
    assert rows(db) == sorted(graph.heads())


def job_documents() -> list[dict]:
    return [doc for doc in yaml.safe_load_all(JOB.read_text()) if doc]


def test_the_job_manifest_passes_kubernetes_schema():
    import kubernetes_validate

    for document in job_documents():
        kubernetes_validate.validate(document, "1.33", strict=True)


def test_the_job_never_retries_a_failed_migration_and_keeps_its_backup():
    job = next(doc for doc in job_documents() if doc["kind"] == "Job")
    pod = job["spec"]["template"]["spec"]
    assert job["apiVersion"] == "batch/v1"
    assert job["spec"]["backoffLimit"] == 0 and pod["restartPolicy"] == "Never"
    containers = pod["initContainers"] + pod["containers"]
    for container in containers:
        env = {item["name"]: item for item in container["env"]}
        assert "secretKeyRef" in env[DB_URL_ENV]["valueFrom"]  # the URL from a Secret, never inline
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts[env[HOME_ENV]["value"]] == "backups"  # backups land on the claimed volume
    claim = pod["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert any(doc["kind"] == "PersistentVolumeClaim" and doc["metadata"]["name"] == claim for doc in job_documents())


def test_the_job_commands_are_the_tool_s_own():
    """Each container's command parses with the tool's parser: a rehearsal first, then the upgrade."""
    job = next(doc for doc in job_documents() if doc["kind"] == "Job")
    pod = job["spec"]["template"]["spec"]
    parsed = []
    for container in pod["initContainers"] + pod["containers"]:
        program, *argv = container["command"]
        assert program == "galaxy-migrations"
        parsed.append(build_parser().parse_args(argv))
    assert [(args.task, bool(args.rehearse)) for args in parsed] == [("upgrade", True), ("upgrade", False)]
    assert all(args.yes and args.json and args.target == "head" for args in parsed)
