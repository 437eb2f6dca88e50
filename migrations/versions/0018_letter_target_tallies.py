"""letters: per-recipient tallies folded by the workers

Revision ID: 0018_letter_target_tallies
Revises: 0017_pledge_tally
Create Date: 2026-12-03 12:50:00

Every existing delivery row starts queued (``needs_count``), so the first fold after the
upgrade builds the tallies from what is there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_letter_target_tallies"
down_revision = "0017_pledge_tally"
branch_labels = None
depends_on = None

DELIVERED_UNCOUNTED = "counted < 2 AND status IN ('sent', 'self_sent')"


def upgrade():
    op.create_table(
        "letter_target_tallies",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_letter_target_tallies_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["letter_targets.id"],
            name=op.f("fk_letter_target_tallies_target_id_letter_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target_id", name=op.f("pk_letter_target_tallies")),
    )
    op.create_index(
        op.f("ix_letter_target_tallies_action_id"), "letter_target_tallies", ["action_id"]
    )
    with op.batch_alter_table("letter_deliveries") as batch:
        batch.add_column(
            sa.Column("counted", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("needs_count", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_index(
        "ix_letter_deliveries_needs_count",
        "letter_deliveries",
        ["id"],
        postgresql_where=sa.text("needs_count"),
        sqlite_where=sa.text("needs_count"),
    )
    op.create_index(
        "ix_letter_deliveries_delivered_uncounted",
        "letter_deliveries",
        ["id"],
        postgresql_where=sa.text(DELIVERED_UNCOUNTED),
        sqlite_where=sa.text(DELIVERED_UNCOUNTED),
    )


def downgrade():
    op.drop_index("ix_letter_deliveries_delivered_uncounted", table_name="letter_deliveries")
    op.drop_index("ix_letter_deliveries_needs_count", table_name="letter_deliveries")
    with op.batch_alter_table("letter_deliveries") as batch:
        batch.drop_column("needs_count")
        batch.drop_column("counted")
    op.drop_index(op.f("ix_letter_target_tallies_action_id"), table_name="letter_target_tallies")
    op.drop_table("letter_target_tallies")
