"""Link job to tool_request

Revision ID: 92a3b4c5d6e7
Revises: fedcba987654
Create Date: 2026-01-09 00:00:00

"""

from galaxy.model.database_object_names import build_foreign_key_name
from galaxy.model.migrations.util import (
    create_foreign_key,
    drop_constraint,
)

# revision identifiers, used by Alembic.
revision = "92a3b4c5d6e7"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None

job_table = "job"
fk_name = build_foreign_key_name(job_table, "tool_request_id")
fkey_args = (fk_name, job_table, "tool_request", ["tool_request_id"], ["id"])


def upgrade():
    create_foreign_key(*fkey_args)


def downgrade():
    drop_constraint(fk_name, job_table)
