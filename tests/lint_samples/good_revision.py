"""Add job.tool_state_hash and an index for it (a revision that follows every rule)

Revision ID: 1a2b3c4d5e6f
Revises: fedcba987654
Create Date: 2026-01-01 00:00:00

"""

import sqlalchemy as sa
from alembic import op
from galaxy.model.migrations.util import (
    _is_sqlite,
    add_column,
    create_foreign_key,
    create_index,
    create_table,
    drop_column,
    drop_constraint,
    drop_index,
    drop_table,
    transaction,
)

# revision identifiers, used by Alembic.
revision = "1a2b3c4d5e6f"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None

table_name = "job"
column_name = "tool_state_hash"
index_name = "ix_job_tool_state_hash"


def upgrade():
    with transaction():
        add_column(table_name, sa.Column(column_name, sa.String(64), nullable=True))
        add_column(
            table_name,
            sa.Column("stale", sa.Boolean, nullable=False, server_default=sa.false()),
        )
        create_table(
            "tool_state_blob",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("hash", sa.String(64), index=True),
        )
        # a new table is empty: a plain index and a NOT NULL column are fine on it
        create_index("ix_tool_state_blob_hash", "tool_state_blob", ["hash"])
        add_column("tool_state_blob", sa.Column("size", sa.Integer, nullable=False))
        create_foreign_key(
            "fk_job_tool_state_hash",
            table_name,
            "tool_state_blob",
            [column_name],
            ["hash"],
            postgresql_not_valid=True,
        )
        op.execute("UPDATE job SET stale = true WHERE state = 'deleted'")
        stmt = sa.text("SELECT count(*) FROM job")
        op.get_bind().execute(stmt)
    with op.get_context().autocommit_block():
        create_index(index_name, table_name, [column_name], postgresql_concurrently=True)
    if not _is_sqlite():
        op.execute("ALTER TABLE job VALIDATE CONSTRAINT fk_job_tool_state_hash")
        op.execute("ANALYZE job")


def downgrade():
    with transaction():
        drop_index(index_name, table_name)
        drop_constraint("fk_job_tool_state_hash", table_name)
        drop_table("tool_state_blob")
        drop_column(table_name, "stale")
        drop_column(table_name, column_name)
