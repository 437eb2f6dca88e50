"""export_jobs: the language the hand-in PDF is written in (the organiser chooses)

Revision ID: 0032_export_language
Revises: 0031_mailing_test_language
Create Date: 2026-12-06 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0032_export_language"
down_revision = "0031_mailing_test_language"
branch_labels = None
depends_on = None


def upgrade():
    # add_column, not a rebuild: no table is copied. NULL: the default language.
    op.add_column("export_jobs", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("export_jobs") as batch:
        batch.drop_column("language")
