"""events: mark supporter-hosted events apart from the host's address (erasure blanks it)

Revision ID: 0013_events_hosted
Revises: 0012_letters_geo
Create Date: 2026-12-03 12:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_events_hosted"
down_revision = "0012_letters_geo"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event_details", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hosted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE event_details SET hosted = (host_email <> '')")


def downgrade():
    with op.batch_alter_table("event_details", schema=None) as batch_op:
        batch_op.drop_column("hosted")
