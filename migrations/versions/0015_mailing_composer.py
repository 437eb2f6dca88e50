"""mailing composer: drafts with a Markdown body, an audience, a send time; test sends

Revision ID: 0015_mailing_composer
Revises: 0014_webhook_sensitive
Create Date: 2026-12-03 12:40:00

Columns are only added (no table is rebuilt), so SQLite needs no batch copy on the way up.
"""

from alembic import op
import sqlalchemy as sa


revision = "0015_mailing_composer"
down_revision = "0014_webhook_sensitive"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.add_column("mailings", sa.Column("body", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "mailings",
        sa.Column("audience", sa.String(length=16), server_default="campaign", nullable=False),
    )
    op.add_column("mailings", sa.Column("pledge_option", sa.String(length=200), nullable=True))
    op.add_column(
        "mailings", sa.Column("confirmed_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("mailings", sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "mailing_tests",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("mailing_id", _BIG_ID, nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailing_id"],
            ["mailings.id"],
            name=op.f("fk_mailing_tests_mailing_id_mailings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organisers.id"],
            name=op.f("fk_mailing_tests_organiser_id_organisers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailing_tests")),
    )
    with op.batch_alter_table("mailing_tests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mailing_tests_mailing_id"), ["mailing_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("mailing_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailing_tests_mailing_id"))
    op.drop_table("mailing_tests")
    with op.batch_alter_table("mailings", schema=None) as batch_op:
        batch_op.drop_column("send_at")
        batch_op.drop_column("confirmed_since")
        batch_op.drop_column("pledge_option")
        batch_op.drop_column("audience")
        batch_op.drop_column("body")
