"""letters: daily digests per recipient

Revision ID: 0019_letter_digests
Revises: 0018_letter_target_tallies
Create Date: 2026-12-03 13:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019_letter_digests"
down_revision = "0018_letter_target_tallies"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("letter_details") as batch:
        batch.add_column(
            sa.Column("digest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("letter_details") as batch:
        batch.drop_column("digest")
