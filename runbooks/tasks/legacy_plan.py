"""A plan for databases from before Alembic: the releases to step through, and the command for each.

Galaxy's Alembic chain starts where SQLAlchemy Migrate stopped: version 180 (Galaxy 22.01).
A database below 180 needs 22.01's code first (its Migrate repository holds every script up
to 180, so one ``manage_db.sh upgrade`` runs them in order), then any Alembic release's
``manage_db.sh upgrade``. A database whose ``alembic_version`` was written while
``migrate_version`` was still below 180 skipped Migrate scripts for good (Galaxy issue 19016:
``manage_db.sh upgrade`` does not look at ``migrate_version``); its plan starts from the
backup taken before that jump.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbooks.code.revisions import RevisionGraph
from runbooks.tasks.printed_commands import DatabaseArgs, command_line, for_url
from runbooks.tasks.status import SQLALCHEMY_MIGRATE_LAST, Status

LAST = SQLALCHEMY_MIGRATE_LAST["gxy"]
# The last SQLAlchemy Migrate version of each release whose galaxy-data is on PyPI, measured on
# the databases those packages made (the project's release fixtures record them; 22.01's is
# Galaxy's SQLALCHEMYMIGRATE_LAST_VERSION_GXY too). There is no galaxy-data for 21.01 or 21.05.
RELEASE_MIGRATE_VERSIONS = {"20.09": 170, "21.09": 179, "22.01": LAST}
HISTORY_AUDIT_SCRIPT = (175, "0175_history_audit.py")  # 21.05; in galaxy-data 21.9.0's Migrate repository
# Galaxy issue 13528: the last commit with Migrate's version 181 and a downgrade to 180, before Alembic.
LAST_MIGRATE_COMMIT = "da88ded"


@dataclass(frozen=True)
class Step:
    code: str  # the Galaxy code (or the backup) the step uses
    action: str  # what to run, commands in backticks
    result: str

    def line(self, number: int) -> str:
        return f"{number}. {self.code}: {self.action} ({self.result})"


def release_of(version: int) -> str:
    """Which release left SQLAlchemy Migrate at ``version``, as precisely as the packages tell."""
    exact = [release for release, last in RELEASE_MIGRATE_VERSIONS.items() if last == version]
    if exact:
        return f"Galaxy {exact[0]}'s last version"
    if version > LAST:
        return f"past {LAST}: a development build of 22.05 from before Alembic"
    older = [(last, release) for release, last in RELEASE_MIGRATE_VERSIONS.items() if last < version]
    newer = [(last, release) for release, last in RELEASE_MIGRATE_VERSIONS.items() if last > version]
    if not older:
        return f"older than Galaxy {min(newer)[1]} (version {min(newer)[0]})"
    (low, low_release), (high, high_release) = max(older), min(newer)
    return f"between Galaxy {low_release} ({low}) and {high_release} ({high})"


@dataclass(frozen=True)
class Commands:
    """This project's commands for the steps it runs itself, each naming the same database."""

    upgrade: str
    rehearse: str
    restore: str
    troubleshoot: str


def legacy_steps(version: int, this_code: str, commands: Commands, head: str, sqlite: bool) -> list[Step]:
    """From SQLAlchemy Migrate ``version`` (no alembic_version yet) to Alembic's head."""
    steps = []
    if version < LAST:
        steps.append(
            Step(
                "Galaxy 22.01 (`git checkout release_22.01`, its own virtualenv, Python 3.9)",
                "`sh manage_db.sh upgrade`",
                f"SQLAlchemy Migrate {version} to {LAST}: " + _scripts(version + 1, LAST),
            )
        )
    elif version > LAST:
        steps.append(
            Step(
                f"Galaxy dev at {LAST_MIGRATE_COMMIT} (Galaxy issue 13528)",
                f"`sh manage_db.sh downgrade --version {LAST}`",
                f"SQLAlchemy Migrate {version} back to {LAST}",
            )
        )
    steps.append(
        Step(
            this_code,
            f"`{commands.rehearse}`, then `{commands.upgrade}`",
            f"Galaxy: `sh manage_db.sh upgrade`; Alembic takes over at {LAST} and runs every revision to {head}",
        )
    )
    if sqlite:
        steps.append(
            Step(
                "only if that rehearsal stops at cde5d2db77e7 with \"No such constraint: 'job_session_id_fkey'\"",
                f"Galaxy's `sh scripts/db_dev.sh upgrade --repair`, then `{commands.troubleshoot}`",
                "SQLite tables from before 23.0 have foreign keys without names; the doctor names the next stop",
            )
        )
    return steps


def plan_lines(status: Status, this_code: str, commands: Commands, head: str) -> list[str]:
    steps = plan(status, this_code, commands, head)
    return [step.line(number) for number, step in enumerate(steps, 1)]


def plan(status: Status, this_code: str, commands: Commands, head: str) -> list[Step]:
    """The sequence for ``status``; empty when the database needs none."""
    version = status.legacy_migrate_version
    sqlite = status.database.is_sqlite
    if version is None:
        return []
    if status.state == "legacy-sqlalchemy-migrate":
        return legacy_steps(version, this_code, commands, head, sqlite)
    if status.skipped_migrate:
        restore = Step(
            "the backup made before alembic_version was first written",
            f"restore it (`{commands.restore}` for a backup this tool made)",
            f"the database as it was at SQLAlchemy Migrate {version}; the skipped scripts cannot be replayed in place",
        )
        return [restore, *legacy_steps(version, this_code, commands, head, sqlite)]
    return []


def lines_for(status: Status, graph: RevisionGraph, database: DatabaseArgs | None = None) -> list[str]:
    """The plan's numbered lines, its commands naming ``status``'s database (empty when none is needed)."""
    database = database or for_url(status.database)
    commands = Commands(
        *(
            command_line(*words, database=database)
            for words in (["upgrade"], ["upgrade", "--rehearse"], ["restore", "BACKUP"], ["troubleshoot"])
        )
    )
    return plan_lines(status, f"this code ({status.galaxy})", commands, ", ".join(graph.heads("gxy")))


def _scripts(first: int, last: int) -> str:
    return f"script {last}" if first == last else f"scripts {first}-{last}"


def skipped_summary(status: Status) -> str:
    version = status.legacy_migrate_version
    missing = (
        f"; e.g. history_audit ({HISTORY_AUDIT_SCRIPT[1]}) is missing and Galaxy fails on it at run time"
        if version is not None and version < HISTORY_AUDIT_SCRIPT[0]
        else ""
    )
    return (
        f"alembic_version is at {', '.join(status.rows)} but migrate_version is at {version} ({release_of(version)}), "
        f"not {LAST}: Alembic took over before SQLAlchemy Migrate finished, so its "
        f"{_scripts(version + 1, LAST)} never ran{missing} (Galaxy issue 19016)"
    )
