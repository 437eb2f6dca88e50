"""action_questions: the organiser's words of each question in other languages

Revision ID: 0027_question_translations
Revises: 0026_host_and_supporter_language
Create Date: 2026-12-04 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027_question_translations"
down_revision = "0026_host_and_supporter_language"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a rebuild: no table is copied (and nothing cascades on SQLite).
    op.add_column(
        "action_questions",
        sa.Column("translations", sa.JSON(), server_default="{}", nullable=False),
    )


def downgrade():
    with op.batch_alter_table("action_questions") as batch:
        batch.drop_column("translations")
