"""Does the database match Galaxy's model? The report of ``compare_metadata`` against both models.

Alembic's autogenerate comparison needs ``galaxy.model`` (seconds to import), so it runs in
a child of the Galaxy worker (``runbooks.galaxy.commands.model_drift`` asks for it; the
child's side is ``runbooks.galaxy.child.drift_here``), with a checkout's ``lib/`` first on
the path when the code is a checkout. The database is compared with the metadata of both
models, ``galaxy.model`` and ``galaxy.model.tool_shed_install`` (against the first alone,
the tool-shed-install tables would look extra). Reflection noise is set aside here, with
the reason: SQLite cannot report unnamed unique constraints; ``kombu_*`` tables belong to
Celery; and Galaxy's model declares ``dataset.uuid`` unique twice, which a database
enforces once.

Used by ``prove`` (the column a new revision adds shows up here until the model has it)
and ``troubleshoot --drift``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from runbooks.database.urls import DatabaseUrl

MODEL_FILE = "lib/galaxy/model/__init__.py"
MAPPING_TESTS = "test/unit/data/model/mapping/test_*model_mapping.py"

# Alembic's words (from the model's point of view) in a reader's words.
KIND_TEXT = {
    "add_table": "table in the model, missing from the database",
    "remove_table": "table in the database, not in the model",
    "add_column": "column in the model, missing from the database",
    "remove_column": "column in the database, not in the model",
    "add_index": "index in the model, missing from the database",
    "remove_index": "index in the database, not in the model",
    "add_constraint": "constraint in the model, missing from the database",
    "remove_constraint": "constraint in the database, not in the model",
    "add_fk": "foreign key in the model, missing from the database",
    "remove_fk": "foreign key in the database, not in the model",
    "modify_type": "column type differs",
    "modify_nullable": "nullability differs",
    "modify_default": "server default differs",
    "modify_comment": "comment differs",
}


@dataclass(frozen=True)
class Difference:
    """One autogenerate difference: Alembic's kind, the table, the object, and what differs."""

    kind: str
    table: str
    name: str
    detail: str = ""
    covered: bool = False  # a unique constraint the database already enforces on the same columns

    def describe(self) -> str:
        what = KIND_TEXT.get(self.kind, self.kind)
        return f"{what}: {self.name}" + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DriftReport:
    database: str
    dialect: str
    differences: list[Difference]
    ignored: list[tuple[Difference, str]] = field(default_factory=list)  # (difference, why it is noise)

    @property
    def clean(self) -> bool:
        return not self.differences

    def by_table(self) -> dict[str, list[Difference]]:
        grouped: dict[str, list[Difference]] = defaultdict(list)
        for difference in sorted(self.differences, key=lambda d: (d.table, d.kind, d.name)):
            grouped[difference.table].append(difference)
        return dict(grouped)

    def text(self, reminder: bool = True) -> str:
        if self.clean:
            lines = [f"The database matches the model (galaxy.model + tool_shed_install) on {self.dialect}."]
        else:
            lines = [f"{len(self.differences)} difference(s) between the database and the model, by table:"]
            for table, items in self.by_table().items():
                lines.append(f"  {table}")
                lines += [f"    - {d.describe()}" for d in items]
        if self.ignored:
            reasons = "; ".join(sorted({why for _, why in self.ignored}))
            lines.append(f"({len(self.ignored)} reflection difference(s) set aside as noise: {reasons})")
        if reminder and not self.clean:
            lines.append(
                f"To make them agree, change the model in a Galaxy checkout ({MODEL_FILE}) and test the mapping "
                f"({MAPPING_TESTS}): a revision alone does not change the model."
            )
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "database": self.database,
            "dialect": self.dialect,
            "differences": [d.to_dict() for d in self.differences],
            "ignored": [{**d.to_dict(), "why": why} for d, why in self.ignored],
        }


def noise_reason(difference: Difference, dialect: str) -> str | None:
    """Why a difference is reflection noise rather than drift (None: it is drift)."""
    if difference.table.startswith("kombu_") and difference.kind == "remove_table":
        return "kombu_* tables belong to Celery's message broker, not to Galaxy's model"
    if difference.covered:
        return "the model declares a unique constraint twice on the same columns; the database enforces it"
    if dialect == "sqlite" and difference.kind in ("add_constraint", "remove_constraint") and not difference.name:
        return "SQLite does not report unnamed unique constraints"
    return None


def drift_report(db: DatabaseUrl, differences: list[dict]) -> DriftReport:
    """The report of the differences a worker child found, the noise set aside with its reason."""
    report = DriftReport(str(db), db.dialect, [])
    for item in differences:
        difference = Difference(**item)
        why = noise_reason(difference, db.dialect)
        if why:
            report.ignored.append((difference, why))
        else:
            report.differences.append(difference)
    return report
