"""Which database and which Galaxy code a task works on, and where that choice came from.

First match wins: ``--db URL``, ``RUNBOOK_DB_URL``, ``--galaxy-root`` (the database Galaxy's own
scripts would use there: its config file's ``database_connection``, Galaxy's environment variables,
else Galaxy's default ``database/universe.sqlite``), the embedded sample database (created at head
on first use). Every command says which one it took and why; when it took Galaxy's default file or
the sample while another database is named elsewhere (Galaxy issues 20614, 15839), it warns.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from runbooks.code.environment import GalaxyEnv
from runbooks.code.galaxy_config import configured_database, elsewhere
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError, UsageError
from runbooks.settings import DB_URL_ENV
from runbooks.tasks.install_choice import InstallDatabase, choose_install
from runbooks.tasks.printed_commands import ENV_REFERENCE, DatabaseArgs
from runbooks.tasks.samples import embedded_sample_url, ensure_embedded_sample


@dataclass
class Selection:
    db: DatabaseUrl
    env: GalaxyEnv
    source: str  # argument, environment, galaxy-config, galaxy-environment, galaxy-default or sample
    origin: str = ""  # where the choice came from, for the reader (a file and key, a variable, a rule)
    warnings: list[str] = field(default_factory=list)
    install: InstallDatabase | None = None  # the tsi database, when apart from ``db`` (None: one database)

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
        named = self.install is not None and self.install.source in ("argument", "environment")
        install = self.install.db if named else None
        return DatabaseArgs(db, self.env.root, from_environment=self.source == "environment", install_db=install)

    def describe(self) -> str:
        text = f"{self.db} ({self.origin}); Galaxy code: {self.env.describe()}"
        if self.install is not None:
            text = f"{self.db} ({self.origin}) for gxy, {self.install.db} ({self.install.origin}) for tsi; "
            text += f"Galaxy code: {self.env.describe()}"
        return text

    def to_json(self) -> dict:
        """The choice for a JSON report: password-free."""
        chosen = {"url": self.db.masked(), "source": self.source, "from": self.origin, "warnings": self.warnings}
        return chosen | ({"install_database": self.install.to_json()} if self.install is not None else {})


def select(
    db: str | None = None,
    galaxy_root: str | None = None,
    create_sample: bool = True,
    announce: Callable[[str], None] = print,
    install_db: str | None = None,
) -> Selection:
    selection = _choose(db, galaxy_root, create_sample, announce)
    selection.install = choose_install(install_db, selection.db, selection.source, selection.env.root)
    if selection.source in ("galaxy-default", "sample"):
        selection.warnings = _named_elsewhere(selection)
    for warning in selection.warnings:
        announce(f"warning: {warning}")
    return selection


def _choose(db, galaxy_root, create_sample, announce) -> Selection:
    env = GalaxyEnv.locate(galaxy_root)
    if db == ENV_REFERENCE:  # how printed commands name a URL with a password
        if not os.environ.get(DB_URL_ENV):
            raise UsageError(f"--db '{db}' reads the URL from {db}, which is not set: export {DB_URL_ENV}=URL first")
        db = None
    if db:
        return Selection(DatabaseUrl.parse(db), env, "argument", "given with --db")
    if os.environ.get(DB_URL_ENV):
        return Selection(DatabaseUrl.parse(os.environ[DB_URL_ENV]), env, "environment", f"from ${DB_URL_ENV}")
    if env.root is not None:
        configured = configured_database(env.root)
        return Selection(DatabaseUrl.parse(configured.url), env, configured.source, configured.origin)
    sample = ensure_embedded_sample(announce) if create_sample else embedded_sample_url()
    return Selection(sample, env, "sample", "the embedded sample database")


def _named_elsewhere(selection: Selection) -> list[str]:
    """Warnings for databases named where this selection did not look (a likely wrong database)."""
    taken = "Galaxy's default SQLite file" if selection.source == "galaxy-default" else "the embedded sample database"
    how = "--db URL" if selection.source == "galaxy-default" else "--galaxy-root DIR or --db URL"
    warnings = []
    for other in elsewhere(selection.env.root):
        try:
            named = DatabaseUrl.parse(other.url)
        except RunbookError:
            continue
        if named.masked() == selection.db.masked():
            continue
        warnings.append(
            f"this acts on {taken} {selection.db}, but {other.where} names a {named.dialect} database "
            f"({named.masked()}), which Galaxy's scripts here would not read: if that is the database you mean, "
            f"pass {how}"
        )
    return warnings
