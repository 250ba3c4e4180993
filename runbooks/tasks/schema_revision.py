"""Which revision a schema is at, from the tables and columns the revisions create (read-only).

Advice to ``stamp`` a revision marks every revision below it applied, so it is given only with
proof: each table and column the revisions up to it create is there, and none of those the later
ones create. A database moved to ``base`` (Galaxy 22.01's schema, an empty version table) has none
of them; stamping the head there would mark every revision applied that is not.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbooks.code.objects import created_objects, schema_objects
from runbooks.code.revisions import RevisionGraph
from runbooks.database.urls import DatabaseUrl

KINDS = ("table", "column")


@dataclass(frozen=True)
class SchemaRevision:
    revision: str | None  # the newest gxy revision whose objects are all there; None: base
    proven: bool  # the revisions above it create objects that are all absent
    absent: tuple[str, ...]  # what the revisions up to the head create that is not there
    wanted: int


def schema_revision(db: DatabaseUrl, graph: RevisionGraph, branch: str = "gxy") -> SchemaRevision:
    chain = [rid for rid in graph.in_order(branch) if rid in graph.ancestors(graph.heads(branch)[:1])]
    made = {
        rid: [o for o in created_objects(graph.revisions[rid]) if o.kind in KINDS and not o.guarded] for rid in chain
    }
    schema = schema_objects(db, {o.table or o.name for objects in made.values() for o in objects})
    present = {rid: [schema.has(o) for o in objects] for rid, objects in made.items()}
    absent = tuple(o.describe() for objects in made.values() for o in objects if not schema.has(o))
    at = None
    for rid in chain:
        if present[rid] and all(present[rid]):
            at = rid
    above = chain[chain.index(at) + 1 :] if at else chain
    proven = all(not any(present[rid]) for rid in above)
    return SchemaRevision(at, proven, absent, sum(len(objects) for objects in made.values()))
