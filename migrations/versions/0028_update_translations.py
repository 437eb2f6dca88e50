"""campaign updates and composed mailings: the organiser's words in other languages

Revision ID: 0028_update_translations
Revises: 0027_question_translations
Create Date: 2026-12-05 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0028_update_translations"
down_revision = "0027_question_translations"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a rebuild: no table is copied (and nothing cascades on SQLite).
    for table in ("campaign_updates", "mailings"):
        op.add_column(
            table, sa.Column("translations", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade():
    for table in ("campaign_updates", "mailings"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
