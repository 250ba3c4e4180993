"""Quoted output for the production page, each from an experiment run at build time
(``docs_build/checks/experiments_production.py``): what Galaxy's Ansible role reads, this project's
playbook, and a PostgreSQL upgrade in a lock's way."""

from __future__ import annotations

import re

from docs_build.checks import experiments_production  # noqa: F401  (registers the experiments)
from docs_build.checks.experiments import experiment


def _block(*lines: str) -> str:
    return "\n".join(["```text", *lines, "```"])


def role_view() -> str:
    found = experiment("production-role-view")
    manage = "$ python scripts/manage_db.py -c config/galaxy.yml"
    lines = []
    for label, reading in (
        ("a database at release 26.0", found["before"]),
        ("after the role's upgrade", found["after"]),
        ("the same database with its tsi row gone", found["no_tsi"]),
    ):
        verdict = (
            "equal: the role does nothing"
            if reading["version"] == reading["db_version"]
            else "different: the role upgrades"
        )
        lines += [f"# {label}", f"{manage} version", reading["version"], f"{manage} db_version", reading["db_version"]]
        lines += [f"# {verdict}", ""]
    lines += ["# Galaxy's startup check on that last database:", found["no_tsi_startup"][:150] + " …"]
    return _block(*lines)


def _recap(stdout: str) -> list[str]:
    keep = []
    for line in stdout.splitlines():
        if line.startswith(("TASK [", "changed:", "ok:", "skipping:", "fatal:", "localhost ")) or '"msg"' in line:
            keep.append(re.sub(r"\s*\*+$", "", line).strip())
    return keep


def playbook_runs() -> str:
    runs = experiment("production-playbook")
    lines = []
    for name, title in (("check", "--check"), ("real", ""), ("again", "")):
        lines += [f"$ ansible-playbook -i localhost, -c local deploy/ansible/upgrade.yml {title}".rstrip()]
        lines += [line for line in _recap(runs[name]["stdout"]) if not line.startswith(("TASK [Galaxy database",))]
        lines += [f"(exit code {runs[name]['rc']})", ""]
    return _block(*lines[:-1])


def _tool_block(command: str, run: dict) -> str:
    forecast = re.compile(r"^\s+[0-9a-f]{12}\s+\d+\.\d+s\s+locks ")  # per-revision lock forecasts: long
    out = [line for line in (run["stdout"] + run["stderr"]).splitlines() if not forecast.match(line)]
    return _block(f"$ {command}", *out, f"(exit code {run['rc']})")


def lock_refused() -> str:
    runs = experiment("production-pg-lock-timeout")
    return _tool_block("galaxy-migrations upgrade --yes --lock-timeout 2s --retries 1", runs["refused"])


def lock_findings() -> str:
    runs = experiment("production-pg-lock-timeout")
    lines = ["$ galaxy-migrations troubleshoot --no-rehearse"]
    for item in runs["findings"]:
        lines += [f"[{item['severity'].upper()}] {item['code']}: {item['summary']}", f"    fix: {item['fix']}"]
    return _block(*lines)


def lock_timed_out() -> str:
    runs = experiment("production-pg-lock-timeout")
    command = "galaxy-migrations upgrade --yes --ignore-sessions --lock-timeout 2s --retries 1"
    return _tool_block(command, runs["timed_out"])


def lock_released() -> str:
    runs = experiment("production-pg-lock-timeout")
    return _tool_block("galaxy-migrations upgrade --yes --lock-timeout 2s --retries 1", runs["again"])


def tool_shed() -> str:
    found = experiment("production-tool-shed")
    lines = [f"# galaxy-tool-shed {found['version']}: tool_shed/webapp/model/migrations/alembic/versions"]
    lines += [f"{r['id']}  down from {r['down']:<12}  {r['message']}" for r in found["revisions"]]
    lines += ["", "$ galaxy-migrations status --db sqlite:///community.sqlite   # stamped at the Tool Shed's head"]
    lines += [
        line
        for line in found["status"]["stdout"].splitlines()
        if line.startswith(("State:", "Unknown", "gxy:", "tsi:"))
    ]
    lines += [f"(exit code {found['status']['rc']})"]
    lines += ["$ galaxy-migrations upgrade --yes --db sqlite:///community.sqlite", found["upgrade"]["stderr"].strip()]
    lines += [f"(exit code {found['upgrade']['rc']}; alembic_version afterwards: {', '.join(found['rows_after'])})"]
    return _block(*lines)


def _from_migrate(step: str, command: str, keep=lambda line: True) -> str:
    run = experiment("production-from-migrate")[step]
    lines = [line for line in (run["stdout"] + run["stderr"]).splitlines() if keep(line)]
    return _block(f"$ {command}", *lines, f"(exit code {run['rc']})")


def from_migrate_status() -> str:
    status = _from_migrate("status", 'galaxy-migrations status --db "$URL" --history 0')
    refused = _from_migrate("refused", 'galaxy-migrations upgrade --yes --db "$URL"')
    return status + "\n\n" + refused


def from_migrate_release_2201() -> str:
    def keep(line: str) -> bool:
        return not line.startswith(("DEBUG", "  ")) and "Warning" not in line

    step = _from_migrate("release_2201", "sh manage_db.sh upgrade          # in release_22.01", keep)
    after = _from_migrate("handed_over", 'galaxy-migrations status --db "$URL" --history 0')
    return step + "\n\n" + after


def from_migrate_upgrade() -> str:
    def keep(line: str) -> bool:
        return not line.startswith("  ") or "Running upgrade" in line

    run = _from_migrate("upgrade", 'galaxy-migrations upgrade --yes --db "$URL"', keep)
    lines = run.splitlines()
    running = [i for i, line in enumerate(lines) if "Running upgrade" in line]
    if len(running) > 6:  # the first three and the last three of the revisions it ran
        lines = lines[: running[3]] + [f"  … {len(running) - 6} more revisions …"] + lines[running[-3] :]
    return "\n".join(lines)


PRODUCTION_SNIPPETS = {
    "from-migrate-status": from_migrate_status,
    "from-migrate-release-2201": from_migrate_release_2201,
    "from-migrate-upgrade": from_migrate_upgrade,
    "production-tool-shed": tool_shed,
    "production-role-view": role_view,
    "production-playbook": playbook_runs,
    "production-lock-refused": lock_refused,
    "production-lock-findings": lock_findings,
    "production-lock-timed-out": lock_timed_out,
    "production-lock-released": lock_released,
}
