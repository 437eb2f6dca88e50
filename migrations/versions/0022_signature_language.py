"""signatures: the language each was made in (its emails are written in it)

Revision ID: 0022_signature_language
Revises: 0021_action_outcomes
Create Date: 2026-12-03 13:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022_signature_language"
down_revision = "0021_action_outcomes"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a table rebuild: signatures is the largest table, and every earlier row
    # was made in English (the only language there was).
    op.add_column(
        "signatures",
        sa.Column("language", sa.String(8), server_default="en", nullable=False),
    )


def downgrade():
    with op.batch_alter_table("signatures") as batch:
        batch.drop_column("language")
