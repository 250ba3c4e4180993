"""The doctor's catalogue: one stable code per problem, its severity, meaning and usual fix."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    summary: str
    fix: str


# The catalogue: one entry per finding code, in the order the doctor checks them.
CODES = [
    Code(
        "database-missing",
        "error",
        "The database (SQLite file or PostgreSQL database) does not exist.",
        "Check the path or URL; Galaxy creates and initializes a missing database on first start (or `create_db.sh`).",
    ),
    Code(
        "database-empty",
        "warning",
        "The database exists but holds no tables (or only kombu_* tables).",
        "Run `sh manage_db.sh init` (or start Galaxy once, in one process): it creates the tables and stamps the "
        "heads. Not `manage_db.sh upgrade`: nothing refuses it, and on SQLite it exits 0 leaving only version rows.",
    ),
    Code(
        "database-damaged",
        "error",
        "The SQLite file cannot be read whole: a malformed page, or table names that are not UTF-8.",
        "Restore the latest backup (`python -m runbooks restore BACKUP`); to salvage what is readable, "
        "`sqlite3 FILE .recover | sqlite3 NEW.sqlite` and check NEW with `troubleshoot`.",
    ),
    Code(
        "no-version-table",
        "error",
        "Tables exist but neither alembic_version nor migrate_version: Galaxy cannot tell the schema's version.",
        "Restore the version table from a backup, or stamp the revision the schema matches "
        "(`run_alembic.sh stamp REV`) after checking it with `troubleshoot --drift`.",
    ),
    Code(
        "sqlalchemy-migrate-wrong-version",
        "error",
        "Under SQLAlchemy Migrate at a version other than 180 (gxy) / 17 (tsi): Alembic cannot take over.",
        "Two steps: reach version 180 with a release_22.01 checkout (`manage_db.sh upgrade`), then upgrade "
        "with this code.",
    ),
    Code(
        "sqlalchemy-migrate-skipped",
        "error",
        "alembic_version exists but migrate_version is below 180: Alembic took over before SQLAlchemy Migrate "
        "finished, and the tables its last scripts make are missing (Galaxy issue 19016).",
        "Restore the backup from before the jump, then step through 22.01's `manage_db.sh upgrade` (to 180) "
        "and this code's upgrade; the finding lists each step.",
    ),
    Code(
        "sqlalchemy-migrate-needs-alembic",
        "error",
        "Under SQLAlchemy Migrate at its last version: Galaxy refuses to start until it is moved to Alembic.",
        "`manage_db.sh upgrade` (or `python -m runbooks upgrade`) moves it to Alembic and to head.",
    ),
    Code(
        "revision-missing-for-branch",
        "error",
        "alembic_version has no row for a branch (gxy or tsi) although the database has its tables.",
        "Stamp the branch's revision the schema is at (`run_alembic.sh stamp REV`), or restore a backup.",
    ),
    Code(
        "branch-in-wrong-database",
        "error",
        "With a separate install database (install_database_connection), a version row of one branch sits in "
        "the other's database: a tsi row in the galaxy database, or a gxy row in the install database. "
        "Galaxy's `manage_db.sh upgrade tsi@head` (any explicit tsi revision) runs against database_connection.",
        "A tsi row in the galaxy database: back up, `sh manage_db.sh downgrade tsi@base` in the checkout (Galaxy "
        "runs explicit revisions against database_connection; tsi's one revision changes no table), then "
        "`upgrade` with --galaxy-root stamps tsi in the install database. A gxy row in the install database: "
        "restore that database's backup.",
    ),
    Code(
        "install-tables-in-galaxy-database",
        "warning",
        "With a separate install database, the galaxy database still has the tool shed install model's tables "
        "(left from when both branches shared it): Galaxy reads them from the install database only.",
        "Nothing for Galaxy; check that the install database holds their rows before you remove them.",
    ),
    Code(
        "invalid-version-rows",
        "error",
        "alembic_version holds a row that is not a revision id (NULL, a duplicate, over-long, not text or not "
        "UTF-8): the table was recreated or edited by hand.",
        "Back up, then run the DELETE statement given for each such row (it matches exactly that row).",
    ),
    Code(
        "database-behind",
        "error",
        "The database is at an older revision than the code: Galaxy refuses to start (OutdatedDatabaseError).",
        "`python -m runbooks upgrade --rehearse`, then `python -m runbooks upgrade` (Galaxy: `manage_db.sh upgrade`).",
    ),
    Code(
        "unknown-revision",
        "error",
        "alembic_version holds a revision no file in this code has: a newer Galaxy or a development branch "
        "migrated it.",
        "Run the Galaxy that wrote it, or with that code downgrade to this code's head (`manage_db.sh downgrade "
        "HEAD`).",
    ),
    Code(
        "multiple-current-revisions",
        "error",
        "More than one alembic_version row for one branch (a downgrade across merge revisions leaves them).",
        "Upgrade to the merge that joins them (`manage_db.sh upgrade`), or go back to the release a row is tagged "
        "with (`python -m runbooks downgrade RELEASE`: `manage_db.sh downgrade REV@-1` for each side-branch "
        "revision, never for the tagged row).",
    ),
    Code(
        "multiple-heads",
        "error",
        "The code (a checkout) has more than one head on a branch: `upgrade` fails with "
        "'Multiple head revisions are present'.",
        "Add a merge revision (`run_alembic.sh merge -m MSG HEAD1 HEAD2`) or re-parent the newer revision "
        "(set its down_revision to the other head).",
    ),
    Code(
        "objects-already-exist",
        "error",
        "Objects a pending revision creates are already in the database: the upgrade would stop there.",
        "Drop the leftover (statement given) if it holds nothing you need, or `db_dev.sh upgrade --repair` "
        "(skips Galaxy util helpers' objects only).",
    ),
    Code(
        "upgrade-will-fail",
        "error",
        "A rehearsal of the pending upgrade on a throwaway copy failed: the first failing revision and the real "
        "database error.",
        "The recognised cause's fix (given), then `python -m runbooks upgrade --rehearse` again.",
    ),
    Code(
        "foreign-key-orphans",
        "warning",
        "Rows whose foreign-key values point to rows that do not exist (SQLite does not enforce foreign keys).",
        "Review, back up, then run the cleanup SQL given for each key (UPDATE ... SET NULL or DELETE).",
    ),
    Code(
        "active-sessions",
        "warning",
        "Other sessions or processes use the database: a migration may block them, or they may block it.",
        "Stop Galaxy (web, job handlers, workflow schedulers, celery) before migrating.",
    ),
    Code(
        "blocked-by-locks",
        "error",
        "A session waits for locks another session holds (PostgreSQL): a migration would hang the same way.",
        "End the blocking session (stop that process, or `SELECT pg_terminate_backend(PID);` if you choose).",
    ),
    Code(
        "database-locked",
        "error",
        "Another process holds a write lock on the SQLite file: a migration would fail with 'database is locked'.",
        "Stop the process named by its pid (a running Galaxy?), then migrate.",
    ),
    Code(
        "hot-journal",
        "error",
        "A rollback journal (FILE-journal) left by a writer that crashed mid-transaction: the file alone is not "
        "the database; nothing can read it read-only until SQLite rolls the journal back.",
        "Keep the journal beside the file (deleting it corrupts the database); the next read-write open rolls it "
        "back: `sqlite3 FILE 'PRAGMA quick_check;'` or starting Galaxy.",
    ),
    Code(
        "server-lacks-function",
        "error",
        "A pending revision calls a SQL function this PostgreSQL server does not offer the migrating role "
        "(gen_random_uuid before PostgreSQL 13 without pgcrypto, Galaxy issue 18877): the change fails there.",
        "As a superuser, `CREATE EXTENSION IF NOT EXISTS pgcrypto;` (the statement names the extension), or a newer "
        "server; then the change again.",
    ),
    Code(
        "role-lacks-privilege",
        "error",
        "The role that would migrate lacks what the pending revisions need: CREATE on the schema, or ownership of "
        "a table they alter ('must be owner of table').",
        "Migrate as the role that owns Galaxy's tables (its URL in --db), or grant the missing privilege "
        "(the statement is given).",
    ),
    Code(
        "search-path-shadows",
        "error",
        "A schema before Galaxy's in the search_path exists (PostgreSQL): a migration would create its tables "
        "there and alter same-named tables of that schema, while Galaxy's version table reads as migrated.",
        "Put Galaxy's schema first for the role and database Galaxy uses (ALTER DATABASE ... SET search_path), "
        "or move the other schema's tables away, then migrate.",
    ),
    Code(
        "database-not-writable",
        "error",
        "The SQLite database file or its folder cannot be written (a read-only file or mount): a migration would "
        "fail at its first write.",
        "Make the file and its folder writable (remount read-write, chmod), then migrate.",
    ),
    Code(
        "database-disk-too-small",
        "error",
        "The disk that holds the SQLite database has less free space than the database takes: SQLite's journal "
        "and the tables Galaxy rebuilds are written beside it, and a migration could stop half-way.",
        "Free space on that disk, or move the database to a larger one, then migrate.",
    ),
    Code(
        "backup-disk-too-small",
        "error",
        "The folder the backup goes to has less free space than the database takes: the backup before the change "
        "would fail or fill the disk.",
        "Free space, set RUNBOOK_HOME to a folder on a larger disk, or back up yourself and pass --no-backup.",
    ),
    Code(
        "database-configured-elsewhere",
        "warning",
        "The command acts on Galaxy's default SQLite file (or the embedded sample) while another database is "
        "named elsewhere: a galaxy.yml Galaxy's scripts here do not read, or Galaxy's environment variables "
        "(Galaxy issues 20614, 15839).",
        "Pass the database you mean: --db URL, or --galaxy-root with the config file Galaxy reads; Galaxy's own "
        "scripts: `manage_db.sh -c CONFIG`.",
    ),
    Code(
        "schema-drift",
        "warning",
        "The schema differs from Galaxy's models (gxy and tsi) although the version table says up to date.",
        "Find the change that was made by hand or by a dev branch; fix the schema (or the model), "
        "then `troubleshoot --drift` again.",
    ),
    Code(
        "schema-missing-object",
        "error",
        "A table, column, index, view or trigger that Galaxy's code makes (and uses) is missing from the database.",
        "Restore it from a backup taken before it went missing, or re-create it as the revision that made it does; "
        "an object no revision makes (only create_all does) is added as the model defines it; then "
        "`troubleshoot --drift`.",
    ),
    Code(
        "schema-differs-from-revision",
        "error",
        "A column type, nullability or constraint differs from what the applied revisions produce (a revision "
        "that did not run, or a manual change); the revision is named.",
        "Make it match what the named revision creates, or restore a backup; then `troubleshoot --drift`.",
    ),
    Code(
        "schema-missing-left-by-galaxy",
        "warning",
        "A table or column Galaxy's model maps is missing, as Galaxy's own upgrade from an older release leaves it "
        "(the path is named, and this database's differences fit that path); Galaxy fails where it reads it.",
        "Add it as the model defines it, after a backup; then `troubleshoot --drift`.",
    ),
    Code(
        "schema-left-by-galaxy",
        "info",
        "Differences from the model that Galaxy's own migrations leave (the upgrade path is named): not a problem.",
        "Nothing to do.",
    ),
]
BY_CODE = {code.code: code for code in CODES}


def catalogue() -> list[tuple[str, str, str, str]]:
    """Every finding code: (code, severity, summary, usual fix), for the reference page."""
    return [(c.code, c.severity, c.summary, c.fix) for c in CODES]
