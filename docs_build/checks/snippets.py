"""Quoted output for the pages: ``<!-- generated: NAME -->`` is filled with ``SNIPPETS[NAME]()``.

Every message, exit code and revision id a page quotes from Galaxy comes from running Galaxy's
code at build time (``docs_build/checks/experiments.py``, cached), never from typing it in. The claim
report and the skill coverage table are made from the pages themselves.
"""

from __future__ import annotations

import re

from docs_build.checks.claim_report import claim_counts, claim_report, claim_units  # noqa: F401  (re-exported)
from docs_build.checks.experiments import experiment
from docs_build.checks.snippets_production import PRODUCTION_SNIPPETS
from docs_build.checks.snippets_topics import TOPIC_SNIPPETS


def _block(*lines: str) -> str:
    return "\n".join(["```text", *lines, "```"])


def _migration_log(stderr: str) -> list[str]:
    return [line.split(":", 2)[2] for line in stderr.splitlines() if line.startswith("INFO:alembic")]


def missing_sqlite() -> str:
    found = experiment("missing-sqlite")
    return _block(
        "$ sh manage_db.sh upgrade        # database_connection: sqlite:///missing.sqlite (no such file)",
        *_migration_log(found["stderr"]),
        f"exit code {found['rc']}; file created: {'yes' if found['created'] else 'no'}; "
        f"alembic_version: {', '.join(found['rows'])}",
    )


def empty_postgresql() -> str:
    found = experiment("empty-postgresql")
    return _block(
        "$ sh manage_db.sh upgrade        # an empty PostgreSQL database",
        *_migration_log(found["stderr"]),
        "Traceback (most recent call last): …",
        found["error"].split("\n")[0][:200],
        f"exit code {found['rc']}; alembic_version: {', '.join(found['rows']) or '(no table: rolled back)'}",
    )


def missing_postgresql() -> str:
    found = experiment("missing-postgresql")
    return _block(
        "$ sh manage_db.sh upgrade        # a PostgreSQL database that does not exist",
        "Traceback (most recent call last): …",
        found["error"].replace(found["database"], "galaxy"),
        f"exit code {found['rc']}; database created: {'yes' if found['created'] else 'no'}",
    )


def two_heads() -> str:
    found = experiment("two-heads")
    return _block(
        "$ sh scripts/run_alembic.sh upgrade gxy@head     # two gxy heads",
        f"FAILED: {found['upgrade']}",
        "$ sh scripts/db_dev.sh revision -m 'new change'   # two gxy heads",
        f"FAILED: {found['revision']}",
    )


def unknown_revision() -> str:
    found = experiment("unknown-revision")
    return _block(
        "# Galaxy's startup check (gxy row 'ffffffffffff', a revision this code has no file for)",
        found["startup"],
        "$ sh scripts/db_dev.sh dbversion",
        found["dbversion"]["stdout"].strip(),
        f"exit code {found['dbversion']['rc']}",
    )


def show_revision() -> str:
    found = experiment("show-tag")
    return _block(
        "$ sh scripts/db_dev.sh show fac9c76612f9",
        *found["show_rev"]["stdout"].rstrip().splitlines(),
        "$ sh scripts/db_dev.sh show 26.0",
        found["show_tag"]["stdout"].strip(),
        f"exit code {found['show_tag']['rc']}",
    )


def revision_files() -> str:
    found = experiment("revision-files")
    return _block(
        "# abcdef012345_misplaced.py put in alembic/ instead of alembic/versions_gxy/",
        "$ sh scripts/db_dev.sh show abcdef012345",
        found["misplaced"]["stdout"].strip(),
        "# abcdef012345_broken.py in versions_gxy/, importing a name custom_types does not have",
        "$ sh scripts/db_dev.sh show abcdef012345      (any command: Alembic imports every file)",
        "Traceback (most recent call last): …",
        found["broken"]["error"],
        f"exit code {found['broken']['rc']}",
    )


SNIPPETS = {
    "missing-sqlite": missing_sqlite,
    "empty-postgresql": empty_postgresql,
    "missing-postgresql": missing_postgresql,
    "two-heads": two_heads,
    "unknown-revision": unknown_revision,
    "show-revision": show_revision,
    "revision-files": revision_files,
    "claim-report": claim_report,
}
SNIPPETS.update(TOPIC_SNIPPETS)
SNIPPETS.update(PRODUCTION_SNIPPETS)


# -- the skill coverage table, made from the pages' headings -----------------------------------------

# (skill item, [(page, heading on that page or None)]): the anchors are computed from the headings
# the pages really have, so a row never points at a section that is not there.
COVERAGE = [
    ("Task menu (create, upgrade, downgrade, status, troubleshoot)", [("index.md", None)]),
    (
        "Quick commands (`dbversion`, `version`, `history --indicate-current`)",
        [("index.md", "Quick commands"), ("reference/scripts.md", None)],
    ),
    ("Two branches gxy / tsi and their directories", [("explanation/branches.md", None)]),
    ("Three scripts: `manage_db.sh`, `scripts/db_dev.sh`, `scripts/run_alembic.sh`", [("reference/scripts.md", None)]),
    (
        "create, step 1: update the model and its mapping tests",
        [("tasks/create.md", None), ("tutorial/first-migration.md", None)],
    ),
    ("create, step 2: `db_dev.sh revision -m`", [("tasks/create.md", None), ("reference/scripts.md", None)]),
    (
        "create, step 3: fill out the revision; imports; helper list; check-function list",
        [("reference/util-helpers.md", None)],
    ),
    (
        "create, step 4: read a recent revision as an example",
        [("tasks/create.md", None), ("reference/revision-graph.md", None)],
    ),
    ("create, step 5: run the migration", [("tasks/create.md", None), ("runbooks/create.ipynb", None)]),
    (
        "create, step 6: verify (runs, schema matches, tests pass)",
        [("tasks/create.md", None), ("reference/lint-rules.md", None)],
    ),
    (
        "upgrade: to head, to a release (`22.05`, `release_22.05`), gxy only, `gxy@+1`",
        [("tasks/upgrade.md", "Targets"), ("reference/release-tags.md", None), ("runbooks/upgrade.ipynb", None)],
    ),
    (
        "upgrade notes: back up, shut Galaxy down, first Alembic upgrade",
        [
            ("tasks/upgrade.md", None),
            ("explanation/sqlite-postgresql.md", "Errors and locks"),
            ("explanation/sqlalchemy-migrate.md", None),
        ],
    ),
    (
        "downgrade: `REV-1`, a revision, a release, `gxy@-1`, `gxy@base`",
        [("tasks/downgrade.md", "Targets"), ("runbooks/downgrade.ipynb", None)],
    ),
    (
        "downgrade notes: back up, oldest release 22.01",
        [
            ("tasks/downgrade.md", None),
            ("explanation/sqlalchemy-migrate.md", "Downgrading to 22.01"),
            ("explanation/merges.md", None),
        ],
    ),
    (
        "status: `dbversion`, `version`, `history -i`, compare database and code",
        [("tasks/status.md", "What Galaxy gives you"), ("runbooks/status.ipynb", None)],
    ),
    ("status: `show REV`", [("tasks/status.md", "One revision: `db_dev.sh show REV`")]),
    (
        "troubleshoot: deadlock detected",
        [
            ("tasks/troubleshoot.md", "Deadlocks and waiting migrations"),
            ("explanation/sqlite-postgresql.md", "Errors and locks"),
        ],
    ),
    (
        "troubleshoot: `IncorrectVersionError`",
        [
            ("explanation/sqlalchemy-migrate.md", "Fixing `IncorrectSAMigrateVersionError`"),
            ("tasks/troubleshoot.md", "IncorrectSAMigrateVersionError and SAMigrateError"),
        ],
    ),
    (
        "troubleshoot: database version mismatch on startup",
        [("explanation/startup.md", None), ("tasks/troubleshoot.md", "OutdatedDatabaseError: the database is behind")],
    ),
    (
        'troubleshoot: "table already exists"',
        [("tasks/troubleshoot.md", '"already exists" during an upgrade'), ("reference/util-helpers.md", None)],
    ),
    ("troubleshoot: cannot find revision file", [("tasks/troubleshoot.md", "Cannot find revision file")]),
    (
        "upgrade: first upgrade of a handed-over database (no revision argument)",
        [("explanation/sqlalchemy-migrate.md", "The first upgrade of a handed-over database")],
    ),
    (
        "`run_alembic.sh` forms (`gxy@+1`, `gxy@-1`, `gxy@base`, `upgrade heads`, bare `+1` invalid)",
        [("tasks/upgrade.md", "Galaxy's `run_alembic.sh` forms")],
    ),
    ("tsi-only operations (`revision --head=tsi@head`)", [("tasks/create.md", "A tsi revision")]),
    (
        "`-c/--galaxy-config` and the override variables",
        [
            (
                "tasks/upgrade.md",
                "Where Galaxy's scripts find the database: `-c/--galaxy-config` and the override variables",
            )
        ],
    ),
    (
        "offline `--sql` downgrade needs `FROM:TO`",
        [("tasks/downgrade.md", "Offline `--sql`: a downgrade needs `FROM:TO`")],
    ),
    (
        "`manage_db.sh init` to initialize (one process)",
        [("tasks/troubleshoot.md", "A database that does not exist or is empty")],
    ),
    ("model mapping tests and `custom_types`", [("tasks/create.md", "Before you start: the model")]),
    ("troubleshoot: foreign key constraint violation", [("tasks/troubleshoot.md", "Rows that point nowhere")]),
    (
        "Key files and external documentation",
        [("reference/scripts.md", None), ("explanation/branches.md", "Where to look")],  # Galaxy's and Alembic's docs
    ),
    (
        "Common patterns: `with transaction():`, util helpers over raw `op`, both `upgrade()` and `downgrade()`",
        [("reference/lint-rules.md", None), ("explanation/sqlite-postgresql.md", None), ("tasks/create.md", None)],
    ),
]


def _headings(page: str) -> dict[str, str]:
    """``{heading text: anchor}`` of a hand-written page, with the slugs Python-Markdown's toc makes."""
    from markdown.extensions.toc import slugify

    from docs_build.checks.claims import DOCS

    text = re.sub(r"```.*?```", "", (DOCS / page).read_text(encoding="utf-8"), flags=re.S)
    found = {}
    for title in re.findall(r"^#{1,6} (.+?)\s*$", text, re.M):
        found[title] = slugify(re.sub(r"[`*]", "", title), "-")
    return found


def _title(page: str) -> str:
    from docs_build.checks.claims import DOCS

    path = DOCS / page
    if path.suffix == ".md" and path.exists():
        return next(iter(_headings(page)), page)
    return page


def coverage_table() -> str:
    lines = ["| skill item | where it lives now |", "| --- | --- |"]
    for item, places in COVERAGE:
        links = []
        for page, heading in places:
            if heading is None:
                links.append(f"[{_title(page)}]({page})")
                continue
            anchors = _headings(page)
            if heading not in anchors:
                raise ValueError(f"coverage table: {page} has no section {heading!r}")
            links.append(f"[{_title(page)}: {heading.replace('`', '')}]({page}#{anchors[heading]})")
        lines.append(f"| {item} | {'; '.join(links)} |")
    return "\n".join(lines)


SNIPPETS["coverage-table"] = coverage_table
