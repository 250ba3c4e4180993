"""Which database and which Galaxy code a task works on.

First match wins: ``--db URL``, ``RUNBOOK_DB_URL``, ``--galaxy-root`` (its configured
``database_connection``), the embedded sample database (created at head on first use).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import UsageError
from runbooks.paths import DB_URL_ENV
from runbooks.samples import embedded_sample_url, ensure_embedded_sample
from runbooks.shell import ENV_REFERENCE, DatabaseArgs


@dataclass
class Selection:
    db: DatabaseUrl
    env: GalaxyEnv
    source: str  # how the database was chosen, for the reader

    @cached_property
    def graph(self) -> RevisionGraph:
        return RevisionGraph.load(self.env)

    @property
    def is_sample(self) -> bool:
        return self.source == "sample"

    @property
    def database_args(self) -> DatabaseArgs:
        """What a printed command repeats so that pasting it selects this database and code again."""
        db = self.db if self.source in ("argument", "environment") else None
        return DatabaseArgs(db, self.env.root, from_environment=self.source == "environment")

    def describe(self) -> str:
        how = {
            "argument": "given with --db",
            "environment": f"from ${DB_URL_ENV}",
            "galaxy-config": f"configured in {self.env.config_file() or 'Galaxy defaults'}",
            "sample": "the embedded sample database",
        }[self.source]
        return f"{self.db} ({how}); Galaxy code: {self.env.describe()}"


def select(
    db: str | None = None,
    galaxy_root: str | None = None,
    create_sample: bool = True,
    announce: Callable[[str], None] = print,
) -> Selection:
    env = GalaxyEnv.locate(galaxy_root)
    if db == ENV_REFERENCE:  # how printed commands name a URL with a password
        if not os.environ.get(DB_URL_ENV):
            raise UsageError(f"--db '{db}' reads the URL from {db}, which is not set: export {DB_URL_ENV}=URL first")
        db = None
    if db:
        return Selection(DatabaseUrl.parse(db), env, "argument")
    if os.environ.get(DB_URL_ENV):
        return Selection(DatabaseUrl.parse(os.environ[DB_URL_ENV]), env, "environment")
    if env.root is not None:
        return Selection(DatabaseUrl.parse(env.configured_database_url()), env, "galaxy-config")
    sample = ensure_embedded_sample(announce) if create_sample else embedded_sample_url()
    return Selection(sample, env, "sample")
