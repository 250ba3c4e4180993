"""The tool shed install (tsi) database, when Galaxy keeps it apart from the galaxy (gxy) database.

Galaxy's ``install_database_connection`` sends the tool shed install model (branch ``tsi``) to a
database of its own; unset, both branches live in the galaxy database. First match wins:
``--install-db URL``; ``$RUNBOOK_INSTALL_DB_URL`` (with a database named by ``--db`` or
``$RUNBOOK_DB_URL``); a checkout's configuration as Galaxy's scripts read it
(``runbooks.code.galaxy_config.configured_install_database``). A choice naming the galaxy database
itself is no choice: the pair is one combined database and every task behaves as with ``--db`` alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from runbooks.code.galaxy_config import configured_install_database
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import UsageError
from runbooks.settings import INSTALL_DB_URL_ENV

INSTALL_ENV_REFERENCE = f"${INSTALL_DB_URL_ENV}"  # as an --install-db value: "read it from the environment"


@dataclass(frozen=True)
class InstallDatabase:
    """A tsi database apart from the galaxy one, and where that choice came from."""

    db: DatabaseUrl
    source: str  # argument, environment, galaxy-config or galaxy-environment
    origin: str

    def to_json(self) -> dict:
        return {"url": self.db.masked(), "source": self.source, "from": self.origin}


def same_database(one: DatabaseUrl, other: DatabaseUrl) -> bool:
    """Whether two URLs reach one database (the same file; the same server and database name)."""
    if one.dialect != other.dialect:
        return False
    if one.is_sqlite:
        return Path(one.url.database).expanduser().resolve() == Path(other.url.database).expanduser().resolve()
    where = lambda db: (db.url.host or "localhost", db.url.port or 5432, db.database_name)  # noqa: E731
    return where(one) == where(other)


def choose_install(given: str | None, gxy: DatabaseUrl, gxy_source: str, root: Path | None) -> InstallDatabase | None:
    """The separate tsi database for ``gxy``, or None when both branches share it."""
    chosen = _chosen(given, gxy_source, root)
    if chosen is None or same_database(chosen.db, gxy):
        return None
    if chosen.db.dialect != gxy.dialect:
        raise UsageError(
            f"the install database {chosen.db} ({chosen.origin}) is {chosen.db.dialect} but the galaxy database "
            f"{gxy} is {gxy.dialect}: Galaxy keeps both on one kind of server; name the right pair"
        )
    return chosen


def _chosen(given: str | None, gxy_source: str, root: Path | None) -> InstallDatabase | None:
    if given == INSTALL_ENV_REFERENCE:
        if not os.environ.get(INSTALL_DB_URL_ENV):
            raise UsageError(
                f"--install-db '{given}' reads the URL from {given}, which is not set: "
                f"export {INSTALL_DB_URL_ENV}=URL first"
            )
        given = os.environ[INSTALL_DB_URL_ENV]
        return InstallDatabase(DatabaseUrl.parse(given), "environment", f"from ${INSTALL_DB_URL_ENV}")
    if given:
        if gxy_source == "sample":
            raise UsageError("--install-db pairs with a galaxy database: add --db URL or --galaxy-root DIR")
        return InstallDatabase(DatabaseUrl.parse(given), "argument", "given with --install-db")
    if gxy_source in ("argument", "environment"):
        if os.environ.get(INSTALL_DB_URL_ENV):
            return InstallDatabase(
                DatabaseUrl.parse(os.environ[INSTALL_DB_URL_ENV]), "environment", f"from ${INSTALL_DB_URL_ENV}"
            )
        return None
    if gxy_source.startswith("galaxy-") and root is not None:
        configured = configured_install_database(root)
        return InstallDatabase(DatabaseUrl.parse(configured.url), configured.source, configured.origin)
    return None
