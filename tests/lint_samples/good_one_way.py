"""Widen history.name (one-way)

Revision ID: 2b3c4d5e6f70
Revises: 1a2b3c4d5e6f
Create Date: 2026-01-02 00:00:00

"""

import sqlalchemy as sa
from galaxy.model.migrations.util import alter_column

# revision identifiers, used by Alembic.
revision = "2b3c4d5e6f70"
down_revision = "1a2b3c4d5e6f"
branch_labels = None
depends_on = None


def upgrade():
    alter_column("history", "name", type_=sa.String(1024))


def downgrade():
    # No need to downgrade, this is a one-way migration: shortening would truncate names.
    pass
