"""The database states of Galaxy's own migration tests, made for real, with three verdicts side by side.

Galaxy's ``test/unit/data/model/migrations/test_migrations.py`` names seven states, for a combined
database and for separate gxy and tsi databases (one in the state, the other at head): 1 tables
but no version table; 2 SQLAlchemy Migrate below its last version; 3 Migrate at its last (180 gxy,
17 tsi) without Alembic; 4 Migrate at last with Alembic stamped at the branch's base; 5 Alembic
mid-way; 6 Alembic at head; 7 empty. Galaxy's tests make them from toy metadata; here they are made
from real databases: Galaxy's own initialization (combined, and with an install URL), Galaxy's own
downgrade (state 5), the Migrate-era databases that releases 21.09 and 22.01 made themselves
(``release_databases``: states 2 and 3), and for the rest the exact table and rows Galaxy's fixtures
write (``migrate_version``, an Alembic stamp, a dropped version table). On PostgreSQL (``Place`` with a
server) the same states are made as databases on that server, named with a prefix so a leftover is
recognisable; the Migrate-era databases are those releases' own ``pg_dump``.

For each: this tool's ``status`` state, its ``troubleshoot`` errors, and Galaxy's own verdict
(``verify_database_is_initialized`` then its startup check, ``runbooks.galaxy.commands.verdict``).
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from runbooks.code.environment import GalaxyEnv
from runbooks.code.install_model import install_tables
from runbooks.code.revisions import RevisionGraph, release_key
from runbooks.database.scratch import copy_database, create_empty, drop_database, run_statements
from runbooks.database.urls import DatabaseUrl
from runbooks.testing.scratch_states import MIGRATE_TABLE, stamp_sql

STATES = {
    1: "tables, no version table",
    2: "SQLAlchemy Migrate below its last version",
    3: "Migrate at its last version, no Alembic",
    4: "Migrate at last + Alembic at base",
    5: "Alembic mid-way",
    6: "Alembic at head",
    7: "empty",
    8: "gxy at head, tsi never initialized (Galaxy's test: partially upgraded, case 1)",
}
LAYOUTS = ("combined", "separate: gxy", "separate: tsi")  # which database is in the state
MIGRATE_RELEASES = {2: "21.9.0", 3: "22.1.1"}  # Migrate-era databases those releases' own code made
TSI_MIGRATE = {2: 16, 3: 17, 4: 17}


@dataclass(frozen=True)
class Row:
    layout: str
    state: int
    made: str  # how the database in the state was made
    status: str  # this tool's status state ("healthy" prefix when exit 0)
    troubleshoot: str  # error codes, or "no errors"
    galaxy: str  # "OK" or Galaxy's exception type
    galaxy_message: str

    @property
    def agrees(self) -> bool:
        return self.status.startswith("healthy") == (self.galaxy == "OK")

    def to_json(self) -> dict:
        return asdict(self) | {"agrees": self.agrees}


@dataclass
class Place:
    """Where the states are made: SQLite files in ``folder``, or databases on the PostgreSQL ``server``."""

    folder: Path
    server: DatabaseUrl | None = None
    prefix: str = "runbooks_test_states_"  # PostgreSQL: every database's name starts with it
    made: list[DatabaseUrl] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return "sqlite" if self.server is None else "postgresql"

    def url(self, name: str) -> DatabaseUrl:
        if self.server is None:
            return DatabaseUrl.parse(f"sqlite:///{self.folder / f'{name}.sqlite'}")
        db = self.server.with_database(f"{self.prefix}{name.replace('-', '_')}"[:63])
        self.made.append(db)
        return db

    def drop_all(self) -> None:
        """Drop every PostgreSQL database made here (SQLite files go with their folder), all at once:
        each DROP DATABASE waits for a checkpoint, and concurrent ones share it (one by one, a busy
        server took 6 s a drop)."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, len(self.made))) as pool:
            list(pool.map(drop_database, self.made))
        self.made.clear()


class Bases:
    """Databases Galaxy's own code made (and the Migrate releases' own), each made once, when first needed.

    A state a base already is (Alembic at head, mid-way, Migrate 179 or 180) is judged on the base itself,
    and the other database of a separate pair is the pair's own at head: Galaxy's verdict writes nothing
    to them (``changed`` reads them back). Every other state is a copy changed by a few statements.
    """

    def __init__(self, place: Place, graph: RevisionGraph, env: GalaxyEnv):
        self.place, self.graph, self.env = place, graph, env
        self.made: dict[str, DatabaseUrl] = {}
        self.rows: dict[str, list[str]] = {}  # each base's version rows when it was made

    def get(self, name: str) -> DatabaseUrl:
        """``combined``, ``combined-mid``, ``pair-gxy``, ``pair-tsi``, ``pair-mid-gxy`` or ``migrate-RELEASE``."""
        from runbooks.galaxy.commands import initialize, run_dbscript

        if name in self.made:
            return self.made[name]
        db = self.place.url(f"base-{name.replace('.', '_')}")
        if name == "combined":
            initialize(db, self.env)
        elif name in ("pair-gxy", "pair-tsi"):
            pair = (
                (db, self.place.url("base-pair-tsi")) if name == "pair-gxy" else (self.place.url("base-pair-gxy"), db)
            )
            initialize(pair[0], self.env, install_db=pair[1])
            self.made.update({"pair-gxy": pair[0], "pair-tsi": pair[1]})
        elif name in ("combined-mid", "pair-mid-gxy"):
            copy_database(self.get("combined" if name == "combined-mid" else "pair-gxy"), db)
            install = None if name == "combined-mid" else self.get("pair-tsi")  # a gxy revision: tsi is not touched
            run_dbscript(db, "downgrade", env=self.env, install_db=install, revision=midway(self.graph))
        else:
            _migrate_release(db, name.removeprefix("migrate-"))
        self.made[name] = db
        self.rows.update({each: _rows(self.made[each]) for each in self.made if each not in self.rows})
        return db

    def changed(self) -> list[str]:
        """The bases whose version rows are no longer those they were made with."""
        return [name for name, db in sorted(self.made.items()) if _rows(db) != self.rows[name]]


def _rows(db: DatabaseUrl) -> list[str]:
    from runbooks.database.connections import inspect_database

    return sorted(inspect_database(db).alembic_rows or ())


def midway(graph: RevisionGraph) -> str:
    """The newest release tag below the gxy head (with galaxy-data 26.1: 26.1 itself, one revision back)."""
    head = graph.heads("gxy")[0]
    tags = sorted(graph.release_tags, key=release_key, reverse=True)
    return next(graph.release_tags[tag] for tag in tags if graph.release_tags[tag] not in ("base", head))


def make_state(layout: str, state: int, place: Place, bases: Bases, graph: RevisionGraph):
    """``(galaxy database, how it was made, install database or None)``, or None: no such state."""
    name = f"{layout.replace(': ', '-')}-{state}"
    if layout != "combined" and (state == 8 or (state == 5 and layout == "separate: tsi")):
        return None  # 8 is a combined database's case; tsi has one revision: nothing between base and head
    if layout == "combined":
        return *_combined(name, state, place, bases, graph), None
    if layout == "separate: gxy":
        db, made = _gxy(name, state, place, bases, graph)
        return db, made, bases.get("pair-tsi")
    db, made = _tsi(name, state, place, bases, graph)
    return bases.get("pair-gxy"), made, db


def _copy(source: DatabaseUrl, target: DatabaseUrl) -> DatabaseUrl:
    copy_database(source, target)
    return target


def _migrate_release(db: DatabaseUrl, release: str) -> None:
    """``db``: the database release's own code made under SQLAlchemy Migrate (its file, or its ``pg_dump``)."""
    from runbooks.database.backup import load_sql_file
    from runbooks.tasks.baseline import RELEASES

    if db.is_sqlite:
        with gzip.open(RELEASES / f"galaxy-data-{release}.migrate.sqlite.gz") as source:
            with open(db.sqlite_path, "wb") as out:
                shutil.copyfileobj(source, out)
        return
    create_empty(db)
    with tempfile.NamedTemporaryFile(suffix=".sql") as plain:
        with gzip.open(RELEASES / f"galaxy-data-{release}.migrate.postgresql.sql.gz") as source:
            shutil.copyfileobj(source, plain)
        plain.flush()
        load_sql_file(Path(plain.name), db)


def _what(db: DatabaseUrl) -> str:
    return "SQLite file" if db.is_sqlite else "PostgreSQL database"


def _empty(db: DatabaseUrl) -> tuple[DatabaseUrl, str]:
    create_empty(db)
    return db, f"an empty {_what(db)}"


def _combined(name: str, state: int, place: Place, bases: Bases, graph: RevisionGraph) -> tuple[DatabaseUrl, str]:
    bases_rows = [graph.in_order("gxy")[0], graph.heads("tsi")[0]]
    release = MIGRATE_RELEASES.get(state, "22.1.1")
    if state == 6:
        return bases.get("combined"), "Galaxy's initialization (one URL)"
    if state == 5:
        return bases.get("combined-mid"), f"Galaxy's initialization, then its downgrade to {midway(graph)}"
    if state in (2, 3):
        return bases.get(
            f"migrate-{release}"
        ), f"galaxy-data {release}'s own database (Migrate {180 if state == 3 else 179})"
    if state == 7:
        return _empty(place.url(name))
    if state == 1:
        db = _copy(bases.get("combined"), place.url(name))
        run_statements(db, ["DROP TABLE alembic_version"])
        return db, "Galaxy's initialization, then its alembic_version dropped"
    if state == 4:
        db = _copy(bases.get(f"migrate-{release}"), place.url(name))
        run_statements(db, stamp_sql(bases_rows, create=True))
        return db, f"galaxy-data {release}'s own database (Migrate 180), stamped {', '.join(bases_rows)}"
    db = _copy(bases.get("pair-gxy"), place.url(name))  # 8: Galaxy's verdict writes to it
    return db, "the galaxy database of Galaxy's initialization with an install URL, used alone"


def _gxy(name: str, state: int, place: Place, bases: Bases, graph: RevisionGraph) -> tuple[DatabaseUrl, str]:
    base = graph.in_order("gxy")[0]
    if state == 6:
        return bases.get("pair-gxy"), "Galaxy's initialization with an install URL"
    if state == 5:
        return bases.get(
            "pair-mid-gxy"
        ), f"Galaxy's initialization with an install URL, then its downgrade to {midway(graph)}"
    if state == 7:
        return _empty(place.url(name))
    if state == 1:
        db = _copy(bases.get("pair-gxy"), place.url(name))
        run_statements(db, ["DROP TABLE alembic_version"])
        return db, "Galaxy's initialization with an install URL, then alembic_version dropped"
    release = MIGRATE_RELEASES.get(state, "22.1.1")
    db = _copy(bases.get(f"migrate-{release}"), place.url(name))
    tables = sorted(install_tables(bases.env))  # PostgreSQL drops them in one statement (they reference each other)
    run_statements(
        db, [f"DROP TABLE {table}" for table in tables] if db.is_sqlite else [f"DROP TABLE {', '.join(tables)}"]
    )
    made = f"galaxy-data {release}'s own database without the install model's tables"
    if state == 4:
        run_statements(db, stamp_sql([base], create=True))
        made += f", stamped {base}"
    return db, made


def _tsi(name: str, state: int, place: Place, bases: Bases, graph: RevisionGraph) -> tuple[DatabaseUrl, str]:
    made = "Galaxy's initialization with an install URL"
    if state == 6:
        return bases.get("pair-tsi"), made
    if state == 7:
        return _empty(place.url(name))
    db = _copy(bases.get("pair-tsi"), place.url(name))
    if state in (1, 2, 3):
        run_statements(db, ["DROP TABLE alembic_version"])
        made += ", then alembic_version dropped"
    if state in TSI_MIGRATE:
        version = TSI_MIGRATE[state]
        run_statements(db, [MIGRATE_TABLE, f"INSERT INTO migrate_version VALUES ('ToolShedInstall', '', {version})"])
        made += f", migrate_version {version}" + (
            f" (its Alembic row {graph.heads('tsi')[0]} is tsi's base)" if state == 4 else ""
        )
    return db, made


def evaluate(layout: str, state: int, db: DatabaseUrl, install, made: str, graph: RevisionGraph, env) -> Row:
    """status, troubleshoot and Galaxy's verdict on one state (the databases are copies: verdicts may write)."""
    from runbooks.doctor.diagnosis import diagnose
    from runbooks.doctor.pair_diagnosis import diagnose_pair
    from runbooks.galaxy.commands import verdict
    from runbooks.tasks.pair_status import pair_status
    from runbooks.tasks.status import get_status

    status = pair_status(db, install, graph, env) if install is not None else get_status(db, graph, env)
    if install is not None:
        report = diagnose_pair(db, install, graph, env, rehearse=False)
    else:
        report = diagnose(db, graph, env, rehearse=False)
    errors = sorted({f.code for f in report.findings if f.severity == "error"})
    said = verdict(db, env, install_db=install)
    kind, _, message = said.partition(": ")
    for each in (db, install):  # the scratch folder or database name is no part of the answer
        if each is not None:
            message = message.replace(str(each.sqlite_path), "<file>") if each.is_sqlite else message
            for form in () if each.is_sqlite else (each.secret(), each.masked(), each.database_name):
                message = message.replace(form, "<database>")  # the server's URL is no part of it either
    shown = f"healthy ({status.state})" if status.is_healthy else status.state
    return Row(layout, state, made, shown, ", ".join(errors) or "no errors", kind, message)


def replay_states(place: Place | Path, graph: RevisionGraph, env: GalaxyEnv | None = None) -> list[Row]:
    """Every state in every layout, made at ``place`` (a folder: SQLite), judged three ways.

    The databases stay for the caller to read (``place.drop_all()`` removes PostgreSQL's); the bases
    are read back after the verdicts (a state judged on a base must leave it as it was)."""
    env = env or GalaxyEnv.from_package()
    place = place if isinstance(place, Place) else Place(Path(place))
    place.folder.mkdir(parents=True, exist_ok=True)
    bases = Bases(place, graph, env)
    rows = []
    for layout in LAYOUTS:
        for state in STATES:
            made = make_state(layout, state, place, bases, graph)
            if made is not None:
                db, how, install = made
                rows.append(evaluate(layout, state, db, install, how, graph, env))
    if bases.changed():  # a state judged on a base, or copied from one, would no longer be what it says
        raise RuntimeError(f"Galaxy's verdicts changed the base databases {', '.join(bases.changed())}")
    return rows
