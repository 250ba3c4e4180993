"""Add page.source_url

Revision ID: 708192a3b4c5
Revises: fedcba987654
Create Date: 2026-01-07 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "708192a3b4c5"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("page", sa.Column("source_url", sa.Text, nullable=True))


def downgrade():
    op.drop_column("page", "source_url")
