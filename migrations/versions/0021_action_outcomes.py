"""actions: the target's response and the outcome (a public timeline)

Revision ID: 0021_action_outcomes
Revises: 0020_branding
Create Date: 2026-12-03 13:25:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021_action_outcomes"
down_revision = "0020_branding"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "action_outcomes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "mailing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_outcomes_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["organisers.id"],
            name=op.f("fk_action_outcomes_created_by_id_organisers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mailing_id"],
            ["mailings.id"],
            name=op.f("fk_action_outcomes_mailing_id_mailings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_outcomes")),
    )
    op.create_index("ix_action_outcomes_action_on", "action_outcomes", ["action_id", "happened_on"])


def downgrade():
    op.drop_index("ix_action_outcomes_action_on", table_name="action_outcomes")
    op.drop_table("action_outcomes")
