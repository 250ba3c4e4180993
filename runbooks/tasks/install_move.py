"""Moving the tool shed install model (branch tsi) out of the galaxy database, or back into it.

``separate``: from a combined galaxy database into a database of its own (for Galaxy's
``install_database_connection``); ``combine``: from that database back into the galaxy database
(for a configuration without it). The steps, each read back before the next:

1. plan: the source holds a tsi revision; the target holds no row of any install table (it may be
   missing, empty, or hold the empty tables Galaxy's startup made there); both on one kind of server;
2. lock and back up every database that exists (the printed backups put each back);
3. copy with Galaxy's model (``runbooks.galaxy.install_move``): tables, rows, stamp;
4. read the target back: every install table has the source's rows (count and digest), the same tsi
   revision; only then clear the source (Galaxy's ``downgrade tsi@base``, the model's ``drop_all``)
   and read it back: no install table, no tsi row;
5. Galaxy's own startup check (``verify_databases`` without auto-migrate) on the new layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runbooks.code.environment import GalaxyEnv
from runbooks.database.backup import Backup, make_backup
from runbooks.database.connections import inspect_database
from runbooks.database.migration_lock import acquire
from runbooks.database.urls import DatabaseUrl
from runbooks.errors import RunbookError, UsageError
from runbooks.galaxy.commands import verdict
from runbooks.galaxy.install_move import install_step
from runbooks.tasks.install_choice import same_database

DIRECTIONS = {
    "separate": "out of the galaxy database into a database of its own",
    "combine": "from its own database back into the galaxy database",
}


@dataclass
class InstallMove:
    direction: str
    galaxy: DatabaseUrl
    install: DatabaseUrl
    env: GalaxyEnv | None = None
    before: dict = field(default_factory=dict)  # the source's install tables, as Galaxy's model reads them
    backups: list[Backup] = field(default_factory=list)
    copied: dict = field(default_factory=dict)
    target_after: dict = field(default_factory=dict)
    source_after: dict = field(default_factory=dict)
    galaxy_verdict: str | None = None

    @property
    def source(self) -> DatabaseUrl:
        return self.galaxy if self.direction == "separate" else self.install

    @property
    def target(self) -> DatabaseUrl:
        return self.install if self.direction == "separate" else self.galaxy

    @property
    def done(self) -> bool:
        """Read back: the target holds every row the source held, the source none, and Galaxy starts."""
        return (
            bool(self.target_after)
            and self.target_after["tables"] == self.before["tables"]
            and self.target_after["revision"] == self.before["revision"]
            and set(self.source_after.get("tables", {}).values()) == {None}
            and self.source_after.get("revision") is None
            and self.galaxy_verdict == "OK"
        )

    def plan_lines(self) -> list[str]:
        rows = sum(table["rows"] for table in self.before["tables"].values() if table)
        return [
            f"Move the tool shed install model {DIRECTIONS[self.direction]}:",
            f"  from {self.source} (tsi {self.before['revision']}, {rows} rows in {len(self.before['tables'])} tables)",
            f"  to   {self.target}",
        ] + [f"  {name}: {table['rows'] if table else 'no table'}" for name, table in self.before["tables"].items()]

    def result_lines(self) -> list[str]:
        lines = [f"Backup: {backup.path} ({backup.database})" for backup in self.backups]
        for name, table in self.target_after.get("tables", {}).items():
            source = self.before["tables"][name]
            same = "same rows" if table == source else "DIFFERENT"
            lines.append(f"  {name}: {table['rows'] if table else 'no table'} in the target ({same} as the source had)")
        lines.append(f"Target tsi revision read back: {self.target_after.get('revision')}")
        left = [name for name, table in self.source_after.get("tables", {}).items() if table is not None]
        lines.append(
            f"Source read back: install tables left {left or 'none'}, tsi row {self.source_after.get('revision')}"
        )
        lines.append(f"Galaxy's startup check on the new layout: {self.galaxy_verdict}")
        lines.append("Done: " + ("yes" if self.done else "NO"))
        return lines

    def configuration(self) -> str:
        """What galaxy.yml says after the move (the URLs' passwords masked)."""
        install = f"install_database_connection: {self.install}"
        if self.direction == "combine":
            install = "(no install_database_connection)"
        return f"galaxy.yml: database_connection: {self.galaxy}\n            {install}"


def plan_move(galaxy: DatabaseUrl, install: DatabaseUrl, direction: str, env: GalaxyEnv | None = None) -> InstallMove:
    """The move, checked before anything is written; a move that cannot be done is one clear line."""
    if direction not in DIRECTIONS:
        raise UsageError(f"direction {direction!r}: choose separate or combine")
    if same_database(galaxy, install):
        raise UsageError(f"{galaxy} and {install} are one database: name a separate install database")
    if galaxy.dialect != install.dialect:
        raise UsageError(f"{galaxy} is {galaxy.dialect}, {install} {install.dialect}: Galaxy keeps both on one server")
    move = InstallMove(direction, galaxy, install, env)
    snapshot = inspect_database(move.source)
    if not snapshot.exists or move.source.is_sqlite and not snapshot.tables:
        raise UsageError(f"{move.source} does not exist or is empty: there is no install model to move from it")
    move.before = install_step("read", move.source, env=env)
    if move.before["revision"] is None:
        raise UsageError(f"{move.source} holds no tsi revision: there is no install model to move from it")
    if inspect_database(move.target).exists:
        held = {name: t["rows"] for name, t in install_step("read", move.target, env=env)["tables"].items() if t}
        if any(held.values()):
            raise UsageError(f"{move.target} already holds install rows {held}: nothing would be moved over them")
    return move


def run_move(move: InstallMove, backup_folder=None) -> InstallMove:
    """Lock, back up, copy, read back, clear the source, read back, ask Galaxy. Raises if a read-back fails."""
    exists = [db for db in (move.source, move.target) if inspect_database(db).exists]
    locks = [acquire(db, "install-move") for db in exists]
    try:
        move.backups = [make_backup(db, backup_folder) for db in exists]
        move.copied = install_step("copy", move.source, move.target, env=move.env)["copied"]
        move.target_after = install_step("read", move.target, env=move.env)
        if move.target_after["tables"] != move.before["tables"]:
            raise RunbookError(
                f"the copy in {move.target} does not read back as the source's rows; the source was left as it was "
                f"(backups: {', '.join(str(b.path) for b in move.backups)})"
            )
        install_step("clear", move.source, env=move.env)
        move.source_after = install_step("read", move.source, env=move.env)
    finally:
        for lock in locks:
            lock.release()
    separate = move.install if move.direction == "separate" else None
    move.galaxy_verdict = verdict(move.galaxy, move.env, install_db=separate)
    return move


def practice_pair(sample: DatabaseUrl, folder) -> tuple[DatabaseUrl, DatabaseUrl]:
    """A copy of the (combined) sample holding an installed repository's rows, made with Galaxy's install
    model, and the URL of a new install database beside it: what a runbook moves when given no database."""
    from pathlib import Path

    from runbooks.database.scratch import copy_database

    galaxy = DatabaseUrl.parse(f"sqlite:///{Path(folder) / 'galaxy.sqlite'}")
    copy_database(sample, galaxy)
    install_step("seed", galaxy)
    return galaxy, DatabaseUrl.parse(f"sqlite:///{Path(folder) / 'install.sqlite'}")


def status_after(move: InstallMove, graph, env: GalaxyEnv):
    """The layout's status as the tool reads it: the pair, each on its branch, or the one database."""
    from runbooks.tasks.pair_status import pair_status
    from runbooks.tasks.status import get_status

    if move.direction == "separate":
        return pair_status(move.galaxy, move.install, graph, env)
    return get_status(move.galaxy, graph, env)
