"""Add workflow.license_url

Revision ID: 5e6f708192a3
Revises: fedcba987654
Create Date: 2026-01-05 00:00:00

"""

import sqlalchemy as sa
from galaxy.model.migrations.util import add_column

# revision identifiers, used by Alembic.
revision = "5e6f708192a3"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None


def upgrade():
    add_column("workflow", sa.Column("license_url", sa.Text, nullable=True))


def downgrade():
    pass
