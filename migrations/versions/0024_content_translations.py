"""campaigns and actions: the organiser's words in other languages

Revision ID: 0024_content_translations
Revises: 0023_action_questions
Create Date: 2026-12-03 13:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0024_content_translations"
down_revision = "0023_action_questions"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a rebuild: no table is copied (and nothing cascades on SQLite).
    for table in ("campaigns", "actions"):
        op.add_column(
            table, sa.Column("translations", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade():
    for table in ("campaigns", "actions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
