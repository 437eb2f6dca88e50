"""branding: the organisation's name, logo, colour, footer links and sender name

Revision ID: 0020_branding
Revises: 0019_letter_digests
Create Date: 2026-12-03 13:15:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0020_branding"
down_revision = "0019_letter_digests"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "branding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_name", sa.String(length=120), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("privacy_url", sa.String(length=500), nullable=False),
        sa.Column("contact_url", sa.String(length=500), nullable=False),
        sa.Column("charity_number", sa.String(length=60), nullable=False),
        sa.Column("sender_name", sa.String(length=120), nullable=False),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column("logo_width", sa.Integer(), nullable=False),
        sa.Column("logo_height", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branding")),
    )


def downgrade():
    op.drop_table("branding")
