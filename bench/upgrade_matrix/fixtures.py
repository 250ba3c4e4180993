"""A release's data fixture, loaded into a scratch database, and the rows in it as they are."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from make_release_data import _table_entry, postgresql_tables, sqlite_tables
from make_release_fixtures import Pg

from bench.upgrade_matrix import MANIFEST, RELEASES
from runbooks.database.urls import DatabaseUrl
from runbooks.settings import TEST_PG_ENV

PG_ADMIN_URL = os.environ.get(TEST_PG_ENV, "postgresql://postgres@127.0.0.1:5432/postgres")


@cache
def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def releases_with_fixtures() -> list[str]:
    """Releases whose data fixture exists for both dialects, oldest first."""
    found = [
        release
        for release, entry in manifest()["releases"].items()
        if all("file" in entry.get(dialect, {}) for dialect in ("sqlite", "postgresql"))
    ]
    return sorted(found, key=lambda release: tuple(int(part) for part in release.split(".")))


def manifest_entry(release: str, dialect: str) -> dict:
    entry = manifest()["releases"].get(release, {}).get(dialect, {})
    if "file" not in entry:
        raise SystemExit(
            f"error: no {dialect} data fixture for {release} in {MANIFEST.name}: pick one of "
            + ", ".join(releases_with_fixtures())
        )
    return entry


def pg_server() -> Pg:
    url = DatabaseUrl.parse(PG_ADMIN_URL).url
    return Pg(url.host or "127.0.0.1", str(url.port or 5432), url.username or "postgres")


@contextmanager
def loaded(release: str, dialect: str, folder: Path) -> Iterator[DatabaseUrl]:
    """The fixture as a database of its own (SQLite file in ``folder``, or a new PostgreSQL database)."""
    plain = gzip.open(RELEASES / manifest_entry(release, dialect)["file"]).read()
    if dialect == "sqlite":
        path = folder / f"matrix-{release}-{uuid.uuid4().hex[:6]}.sqlite"
        path.write_bytes(plain)
        yield DatabaseUrl.parse(f"sqlite:///{path}")
        return
    pg = pg_server()
    name = f"matrix_{release.replace('.', '_')}_{uuid.uuid4().hex[:8]}"
    pg.createdb(name)
    try:
        sql = folder / f"{name}.sql"
        sql.write_bytes(plain)
        _psql_file(pg, name, sql)
        yield DatabaseUrl.parse(pg.url(name))
    finally:
        pg.dropdb(name)


def _psql_file(pg: Pg, name: str, sql: Path) -> None:
    proc = subprocess.run(
        ["psql", *pg.conn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", name, "-f", str(sql)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"error: loading {sql.name} failed: {proc.stderr.strip().splitlines()[-1]}")


def tables(db: DatabaseUrl) -> dict:
    """{table: (columns, primary key, rows)}: values as the manifest's digests read them."""
    if db.is_sqlite:
        return sqlite_tables(db.sqlite_path)
    return postgresql_tables(pg_server(), db.database_name)


def digests(snapshot: dict) -> dict:
    """The manifest's ``tables`` shape: {table: entry} for the non-empty tables."""
    return {table: _table_entry(*content) for table, content in snapshot.items() if content[2]}
