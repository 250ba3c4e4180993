"""Index job.handler and hda.name, flag history.pinned

Revision ID: 8192a3b4c5d6
Revises: fedcba987654
Create Date: 2026-01-08 00:00:00

"""

import sqlalchemy as sa
from alembic import op
from galaxy.model.migrations.util import (
    add_column,
    create_index,
    drop_column,
    drop_index,
    transaction,
)

# revision identifiers, used by Alembic.
revision = "8192a3b4c5d6"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None

job_table = "job"
index_name = "ix_job_handler"


def upgrade():
    with transaction():
        create_index(index_name, job_table, ["handler"])
        add_column("history", sa.Column("pinned", sa.Boolean, index=True, nullable=True))
        op.execute("CREATE INDEX ix_hda_name ON history_dataset_association (name)")


def downgrade():
    with transaction():
        op.execute("DROP INDEX ix_hda_name")
        drop_column("history", "pinned")
        drop_index(index_name, job_table)
