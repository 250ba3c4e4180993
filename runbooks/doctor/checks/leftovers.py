"""Leftovers of killed rehearsals, proofs or restores: reported, never removed (troubleshoot only reads)."""

from __future__ import annotations

from runbooks.doctor.checks.examination import SHOWN, Examination


def check_leftovers(ex: Examination) -> None:
    from runbooks.database.leftovers import find_leftovers

    found = find_leftovers(ex.db)
    if not found:
        return
    # Under active-sessions (info): a copy a dead process left behind, not a problem of this database.
    ex.add(
        "active-sessions",
        f"{len(found)} leftover(s) of killed runs (copies of a database): "
        + "; ".join(leftover.describe() for leftover in found[:SHOWN]),
        "the next `upgrade --rehearse` removes them; or remove them yourself (rm -r FOLDER / DROP DATABASE NAME)",
        {"leftovers": [{"kind": item.kind, "name": item.name, "pid": item.pid} for item in found]},
        severity="info",
    )
