"""webhooks: an endpoint may opt in to sensitive RSVP answers

Revision ID: 0014_webhook_sensitive
Revises: 0013_events_hosted
Create Date: 2026-12-03 12:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_webhook_sensitive"
down_revision = "0013_events_hosted"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("include_sensitive", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("include_sensitive")
