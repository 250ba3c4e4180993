"""Add page.source_url and page.license

Revision ID: 6f708192a3b4
Revises: fedcba987654
Create Date: 2026-01-06 00:00:00

"""

import sqlalchemy as sa
from galaxy.model.migrations.util import (
    add_column,
    drop_column,
    transaction,
)

# revision identifiers, used by Alembic.
revision = "6f708192a3b4"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None

table_name = "page"


def upgrade():
    add_column(table_name, sa.Column("source_url", sa.Text, nullable=True))
    add_column(table_name, sa.Column("license", sa.Text, nullable=True))


def downgrade():
    with transaction():
        drop_column(table_name, "license")
        drop_column(table_name, "source_url")
