"""campaigns: an uploaded hero image and its alt text

Revision ID: 0025_campaign_hero
Revises: 0024_content_translations
Create Date: 2026-12-03 14:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025_campaign_hero"
down_revision = "0024_content_translations"
branch_labels = None
depends_on = None

COLUMNS = ("hero_jpeg", "hero_alt", "hero_width", "hero_height", "hero_version")


def upgrade():
    # add_column, not a rebuild: nothing is copied (and nothing cascades on SQLite).
    op.add_column("campaigns", sa.Column("hero_jpeg", sa.LargeBinary(), nullable=True))
    op.add_column(
        "campaigns", sa.Column("hero_alt", sa.String(300), server_default="", nullable=False)
    )
    for name in ("hero_width", "hero_height", "hero_version"):
        op.add_column(
            "campaigns", sa.Column(name, sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("campaigns") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
