"""mailing_tests: the language a test copy is written in (the organiser chooses)

Revision ID: 0031_mailing_test_language
Revises: 0030_outcome_translations
Create Date: 2026-12-05 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0031_mailing_test_language"
down_revision = "0030_outcome_translations"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a rebuild: no table is copied. NULL: the default language.
    op.add_column("mailing_tests", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("mailing_tests") as batch:
        batch.drop_column("language")
