"""letters: the thank-you variant's own subject; removed recipients

Revision ID: 0016_letter_targets_edit
Revises: 0015_mailing_composer
Create Date: 2026-12-03 12:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_letter_targets_edit"
down_revision = "0015_mailing_composer"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("letter_details") as batch:
        batch.add_column(
            sa.Column("thank_you_subject", sa.String(length=200), server_default="", nullable=False)
        )
    with op.batch_alter_table("letter_targets") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("letter_targets") as batch:
        batch.drop_column("removed_at")
    with op.batch_alter_table("letter_details") as batch:
        batch.drop_column("thank_you_subject")
