"""supporter sessions carry a version, raised on sign-out (a copied cookie stops working)

Revision ID: 0005_supporter_sessions
Revises: 0004
Create Date: 2026-12-03 07:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005_supporter_sessions"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.drop_column("session_version")
