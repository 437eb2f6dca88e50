"""pledge tally: confirmed pledges per action and chosen option, backfilled

Revision ID: 0017_pledge_tally
Revises: 0016_letter_targets_edit
Create Date: 2026-12-03 12:50:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0017_pledge_tally"
down_revision = "0016_letter_targets_edit"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tally_pledge",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("option", sa.String(length=200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_tally_pledge_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", "option", name=op.f("pk_tally_pledge")),
    )
    # What the fold has already counted as confirmed (counted = 2), so the breakdown is right
    # from the start; the reconciler would repair it anyway.
    op.execute(
        "INSERT INTO tally_pledge (action_id, option, n)"
        " SELECT action_id, pledge_option, count(*) FROM signatures"
        " WHERE counted = 2 AND pledge_option IS NOT NULL"
        " GROUP BY action_id, pledge_option"
    )


def downgrade():
    op.drop_table("tally_pledge")
