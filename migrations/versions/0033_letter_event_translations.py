"""letter_targets, event_hosting: the organiser's words in other languages (a recipient's
title, public note and response; the host-an-event introduction)

Revision ID: 0033_letter_event_translations
Revises: 0032_export_language
Create Date: 2026-12-06 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0033_letter_event_translations"
down_revision = "0032_export_language"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a rebuild: no table is copied (and nothing cascades on SQLite).
    for table in ("letter_targets", "event_hosting"):
        op.add_column(
            table, sa.Column("translations", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade():
    for table in ("letter_targets", "event_hosting"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
