"""What Galaxy's own code leaves: the reference a database's schema is judged against.

``compare_metadata`` against the model alone cries wolf: Galaxy's own migrations leave
differences (a database created by 25.0 and upgraded by Galaxy differs from the head model in
nullability and a unique constraint), and it does not see views, triggers or functions at all.
The baseline is made by Galaxy's code, on the database's dialect, and cached (``paths.cache_dir``,
by default the runbook home) per galaxy-data version (the code's revision files), revision(s) and dialect:

- ``initialized``: a database Galaxy's own initialization made at the head: its views,
  triggers and functions, and the differences from the model its ``create_all`` itself has;
- ``paths``: each older release's own database, upgraded by this code, with the differences from
  the model it is left with, named by that path. Those databases ship in the package
  (``RELEASES``: ``release_databases/``, the files an installed wheel carries), so an installed
  tool and a clone judge alike; a release newer than the code in use (a 23.1 checkout) is no path
  that code takes, and is left out.

A baseline the code in use cannot make raises ``BaselineUnavailable``: a limit of the check, never a
fault of the database being judged.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.routines import routine_differences, schema_routines
from runbooks.database.scratch import run_statements, scratch_database
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError
from runbooks.paths import cache_dir, write_whole

# Each release's own databases, in the package (in a clone, a link to the test fixtures' folder):
# pyproject.toml's package-data ships exactly the files ``release_fixtures`` reads.
RELEASES = Path(__file__).resolve().parent / "release_databases"
VERSION = 3  # of the cached file's shape (3: releases newer than the code are left out)


class BaselineUnavailable(RunbookError):
    """The code in use could not make the baseline: the check cannot judge, the database is not at fault."""


@dataclass
class Baseline:
    dialect: str
    heads: list[str]
    routines: dict  # {"view": {name: columns}, "trigger": {name: table}, "function": {name: ""}}
    initialized: list[dict]  # drift differences of Galaxy's own fresh database
    paths: dict[str, list[dict]] = field(default_factory=dict)  # path description -> differences it leaves

    def explain(self, difference: dict) -> str | None:
        """The Galaxy path that leaves this very difference (None: Galaxy's own code does not)."""
        key = _key(difference)
        if any(_key(d) == key for d in self.initialized):
            return "Galaxy's own initialization at the head leaves it"
        for path, differences in self.paths.items():
            if any(_key(d) == key for d in differences):
                return f"left by Galaxy's own migrations on the path: {path}"
        return None


def _key(difference: dict) -> tuple:
    return (difference["kind"], difference["table"], difference["name"], difference.get("detail", ""))


def _fingerprint(graph: RevisionGraph, dialect: str) -> str:
    ids = ",".join(sorted(graph.revisions))
    return hashlib.sha256(f"{VERSION}|{dialect}|{ids}".encode()).hexdigest()[:16]


def cache_file(graph: RevisionGraph, dialect: str) -> Path:
    return cache_dir() / "references" / f"{'-'.join(graph.heads())}-{dialect}-{_fingerprint(graph, dialect)}.json"


def load_baseline(db: DatabaseUrl, graph: RevisionGraph, env: GalaxyEnv) -> Baseline:
    """The cached baseline for this code and ``db``'s dialect, made by Galaxy's code on first use."""
    path = cache_file(graph, db.dialect)
    if path.is_file():
        return Baseline(**json.loads(path.read_text()))
    try:
        baseline = make_baseline(db, graph, env)
    except BaselineUnavailable:
        raise
    except RunbookError as error:
        raise BaselineUnavailable(f"{env.describe()} could not make it: {str(error).splitlines()[0]}") from None
    write_whole(path, json.dumps(baseline.__dict__, indent=1, sort_keys=True))
    return baseline


def make_baseline(db: DatabaseUrl, graph: RevisionGraph, env: GalaxyEnv) -> Baseline:
    from runbooks.galaxy.commands import initialize

    server = None if db.is_sqlite else db
    with scratch_database(server, name="reference") as scratch:
        initialize(scratch.db, env)
        routines = schema_routines(scratch.db)
        initialized = _model_differences(scratch.db, env)
    baseline = Baseline(db.dialect, graph.heads(), routines, initialized)
    for release, fixture in release_fixtures(db.dialect):
        with scratch_database(server, name=f"path_{release}") as scratch:
            steps = _upgrade_release_database(fixture, scratch.db, graph, env)
            if steps is None:  # a release newer than this code: no path it takes
                continue
            differences = _model_differences(scratch.db, env)
            differences += routine_differences(schema_routines(scratch.db), routines)
        baseline.paths[f"created by galaxy-data {release}, upgraded by this code{steps}"] = differences
    return baseline


def release_fixtures(dialect: str) -> list[tuple[str, Path]]:
    """The databases each release's own initialization made (``galaxy-data-25.0.4.sqlite.gz``): the glob is
    pyproject.toml's package-data. The ones filled with data (``.data.``) are the upgrade matrix's, whose
    measured leftovers the doctor reads from its catalogue (doctor/galaxy_leftovers.json) only where a
    database's history fits their path; so are the SQLAlchemy Migrate era's (``.migrate.``, 22.01 and older)."""
    suffix = ".sqlite.gz" if dialect == "sqlite" else ".postgresql.sql.gz"
    found = sorted(RELEASES.glob(f"galaxy-data-*[0-9]{suffix}")) if RELEASES.is_dir() else []
    return [(p.name.removeprefix("galaxy-data-").removesuffix(suffix), p) for p in found]


def _model_differences(db: DatabaseUrl, env: GalaxyEnv) -> list[dict]:
    from runbooks.galaxy.commands import model_drift

    return [d.to_dict() for d in model_drift(db, env).differences]


def _upgrade_release_database(fixture: Path, db: DatabaseUrl, graph: RevisionGraph, env: GalaxyEnv) -> str | None:
    """Load the release's own database into ``db`` and upgrade it with this code, the way an admin would:
    when Galaxy stops with a known cause whose statements are proven, apply them and upgrade again.
    None when the release is newer than this code (its revisions are not all in the graph)."""
    from runbooks.database.backup import load_sql_file
    from runbooks.database.scratch import create_empty
    from runbooks.tasks.failure_explanations import explain_failure
    from runbooks.tasks.migrate import apply, make_plan, read_rows

    with tempfile.TemporaryDirectory(prefix="runbooks-reference-") as folder:
        plain = Path(folder) / "dump"
        plain.write_bytes(gzip.open(fixture).read())
        if db.is_sqlite:
            db.sqlite_path.write_bytes(plain.read_bytes())
        else:
            create_empty(db)
            load_sql_file(plain, db)
    if not set(read_rows(db)) <= set(graph.revisions):
        return None
    applied = []
    for _ in range(3):
        outcome = apply(db, make_plan(graph, read_rows(db), "head", "upgrade"), env=env)
        cause = explain_failure(outcome.errors, db.dialect)
        if outcome.reached or cause is None or not cause.sql:
            break
        run_statements(db, cause.sql)
        applied += list(cause.sql)
    return f" (after {' '.join(applied)})" if applied else ""
