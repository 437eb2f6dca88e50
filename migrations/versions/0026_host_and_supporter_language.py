"""event hosts and My actions sign-ins: the language each was made in (their emails follow it)

Letter writers and RSVPs are signatures, whose language is already kept (0022); the host of a
proposed event and a request for a My actions link have no signature.

Revision ID: 0026_host_and_supporter_language
Revises: 0025_campaign_hero
Create Date: 2026-12-03 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026_host_and_supporter_language"
down_revision = "0025_campaign_hero"
branch_labels = None
depends_on = None


def upgrade():
    # Every earlier row was made in English (the only language there was).
    op.add_column(
        "event_details",
        sa.Column("host_language", sa.String(8), server_default="en", nullable=False),
    )
    op.add_column(
        "supporters",
        sa.Column("language", sa.String(8), server_default="en", nullable=False),
    )


def downgrade():
    with op.batch_alter_table("supporters") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("event_details") as batch:
        batch.drop_column("host_language")
