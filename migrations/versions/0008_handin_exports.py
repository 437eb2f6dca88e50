"""hand-in PDF exports: export_jobs.kind and grouping

Revision ID: 0008_handin
Revises: 0007_paper
Create Date: 2026-12-03 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_handin"
down_revision = "0007_paper"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="csv", nullable=False)
        )
        batch_op.add_column(
            sa.Column("grouping", sa.String(length=16), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_column("grouping")
        batch_op.drop_column("kind")
