"""Merge heads

Revision ID: 3c4d5e6f7081
Revises: 1a2b3c4d5e6f, 2b3c4d5e6f70
Create Date: 2026-01-03 00:00:00

"""

# revision identifiers, used by Alembic.
revision = "3c4d5e6f7081"
down_revision = ("1a2b3c4d5e6f", "2b3c4d5e6f70")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
