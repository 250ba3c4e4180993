"""Practice databases: made by Galaxy's own initialization, moved with Galaxy's own commands.

The embedded sample lives in a project-local folder and is created at head on first use.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.connections import inspect_database
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError, UsageError
from runbooks.paths import runbook_home
from runbooks.settings import HOME_ENV


def embedded_sample_url() -> DatabaseUrl:
    return DatabaseUrl.parse(f"sqlite:///{runbook_home() / 'sample.sqlite'}")


def ensure_embedded_sample(announce=print) -> DatabaseUrl:
    db = embedded_sample_url()
    if not db.sqlite_path.exists():
        try:
            _writable(db.sqlite_path.parent)
        except OSError as error:
            raise UsageError(
                f"no database was given and the sample database cannot be made in {db.sqlite_path.parent} "
                f"({error.strerror}): pass --db URL, or set {HOME_ENV} to a writable folder"
            ) from None
        announce(f"Creating the sample database {db.sqlite_path} at head with Galaxy's own initialization…")
        make_sample(db)
    return db


def make_sample(
    db: DatabaseUrl, target: str | None = None, graph: RevisionGraph | None = None, env: GalaxyEnv | None = None
) -> tuple:
    """Initialize ``db`` at head the way Galaxy does on first start, then move it to ``target``.

    ``env`` is the Galaxy code that does it (a checkout's; default the installed package).

    Refuses a database that already has tables: a sample never overwrites anything. A SQLite
    sample is made under a temporary name and appears under its own only when whole, so an
    interrupted or failed run leaves nothing.
    Returns the alembic_version rows read back.
    """
    from runbooks.code.targets import resolve_target

    moving = bool(target) and target.lower() not in ("head", "heads")
    if moving:
        graph = graph or RevisionGraph.load(env or GalaxyEnv.from_package())
        resolve_target(target, graph, tuple(graph.heads()))  # a bad target fails before anything exists
    _refuse_existing(db)
    if not db.is_sqlite:
        return _make(db, target if moving else None, graph, env)
    _make_folder(db.sqlite_path.parent)
    try:
        _writable(db.sqlite_path.parent)
    except OSError as error:
        raise UsageError(f"cannot write into {db.sqlite_path.parent} ({error.strerror}): choose another path") from None
    final = db.sqlite_path
    partial = final.with_name(f".{final.name}.partial-{os.getpid()}")
    try:
        rows = _make(db.with_database(str(partial)), target if moving else None, graph, env, shown=db)
        _move_into_place(partial, final)
    finally:
        for path in (partial, *(Path(f"{partial}{end}") for end in ("-journal", "-wal", "-shm"))):
            try:
                path.unlink(missing_ok=True)
            except OSError:  # a read-only folder: nothing was made there either
                pass
    return rows


def _writable(folder: Path) -> None:
    """``folder`` exists (made if need be) and takes a new file; ``OSError`` says why not."""
    folder.mkdir(parents=True, exist_ok=True)
    tempfile.TemporaryFile(dir=folder).close()


def _move_into_place(partial: Path, final: Path) -> None:
    """``partial`` under its final name, never replacing a database that appeared there meanwhile."""
    if final.exists() and final.stat().st_size == 0:
        final.unlink()  # an empty file the user made for it (what _refuse_existing lets through)
    try:
        os.link(partial, final)
    except FileExistsError:
        raise UsageError(f"{final} appeared while the sample was being made: choose a new path") from None


def _make(db: DatabaseUrl, target: str | None, graph, env, shown: DatabaseUrl | None = None) -> tuple:
    from runbooks.galaxy import commands as galaxy_commands
    from runbooks.tasks import migrate

    galaxy_commands.initialize(db, env)
    if target is not None:
        plan = migrate.make_plan(graph, migrate.read_rows(db), target, "downgrade")
        outcome = migrate.apply(db, plan, env=env)
        if not outcome.reached:
            detail = outcome.errors[0].splitlines()[0] if outcome.errors else f"it is at {', '.join(outcome.rows)}"
            raise RunbookError(f"the sample {shown or db} did not reach {target}: {detail}")
    return migrate.read_rows(db)


def _make_folder(folder) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        why = f"cannot make the folder {folder} for the sample ({error.strerror})"
        raise UsageError(f"{why}: choose another path") from None


def _refuse_existing(db: DatabaseUrl) -> None:
    snapshot = inspect_database(db)
    if snapshot.exists and snapshot.tables:
        raise UsageError(f"{db} already holds tables: choose a new path or database name (a sample never overwrites)")
    if db.is_sqlite and db.sqlite_path.exists() and db.sqlite_path.stat().st_size > 0 and not snapshot.tables:
        raise UsageError(f"{db.sqlite_path} already exists: choose a new path")


def sample_target(release: str | None, revision: str | None) -> str | None:
    if release and revision:
        raise UsageError("give --release or --revision, not both")
    return release or revision
