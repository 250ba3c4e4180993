"""Add a required workflow.license

Revision ID: a3b4c5d6e7f8
Revises: fedcba987654
Create Date: 2026-01-10 00:00:00

"""

import sqlalchemy as sa
from galaxy.model.migrations.util import (
    add_column,
    drop_column,
)

# revision identifiers, used by Alembic.
revision = "a3b4c5d6e7f8"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None


def upgrade():
    column = sa.Column("license", sa.String(255), nullable=False, default="CC-BY-4.0")
    add_column("workflow", column)


def downgrade():
    drop_column("workflow", "license")
