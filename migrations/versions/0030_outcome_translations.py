"""action_outcomes: the organiser's title and text of each entry in other languages

Revision ID: 0030_outcome_translations
Revises: 0029_action_consents
Create Date: 2026-12-05 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0030_outcome_translations"
down_revision = "0029_action_consents"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a rebuild: no table is copied (and nothing cascades on SQLite).
    op.add_column(
        "action_outcomes",
        sa.Column("translations", sa.JSON(), server_default="{}", nullable=False),
    )


def downgrade():
    with op.batch_alter_table("action_outcomes") as batch:
        batch.drop_column("translations")
