"""signatures: review reasons (held or flagged) and when an organiser reviewed them

Revision ID: 0011_signature_review
Revises: 0010_signature_canonical
Create Date: 2026-12-03 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_signature_review"
down_revision = "0010_signature_canonical"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    # Signatures held before reasons were recorded: say so, so the review page explains them.
    op.execute(
        "UPDATE signatures SET review_reason = 'held before reasons were recorded' "
        "WHERE suspect AND review_reason IS NULL"
    )


def downgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("review_reason")
