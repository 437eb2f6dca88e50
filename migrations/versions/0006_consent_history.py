"""consent history: append-only consent_events, backfilled from signatures and unsubscribes

Revision ID: 0006_consent_history
Revises: 0005_supporter_sessions
Create Date: 2026-12-03 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_consent_history"
down_revision = "0005_supporter_sessions"
branch_labels = None
depends_on = None

BACKFILL = "recorded before the history existed"
COLUMNS = "(email_normalised, campaign_id, action_id, signature_id, consent_version_id, kind, source, created_at)"


def upgrade():
    op.create_table(
        "consent_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email_normalised", sa.String(length=254), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("signature_id", sa.BigInteger(), nullable=True),
        sa.Column("consent_version_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_consent_events_action_id_actions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_consent_events_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consent_version_id"],
            ["consent_versions.id"],
            name=op.f("fk_consent_events_consent_version_id_consent_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_events_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            "ix_consent_events_email_normalised", ["email_normalised", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_events_signature_id"), ["signature_id"], unique=False
        )

    # Backfill, oldest facts first: agreements (confirmed signatures with the tick), their
    # withdrawals, then unsubscribes (source unknown before now) and bounces.
    op.execute(f"""
        INSERT INTO consent_events {COLUMNS}
        SELECT s.email_normalised, a.campaign_id, s.action_id, s.id, s.consent_version_id,
               'granted', 'signature', s.confirmed_at
        FROM signatures s JOIN actions a ON a.id = s.action_id
        WHERE s.wants_updates AND s.confirmed_at IS NOT NULL
          AND s.email_normalised NOT LIKE 'erased:%'
        ORDER BY s.confirmed_at, s.id
    """)
    op.execute(f"""
        INSERT INTO consent_events {COLUMNS}
        SELECT s.email_normalised, a.campaign_id, s.action_id, s.id, NULL,
               'withdrawn', 'signature withdrawn', s.withdrawn_at
        FROM signatures s JOIN actions a ON a.id = s.action_id
        WHERE s.wants_updates AND s.confirmed_at IS NOT NULL AND s.withdrawn_at IS NOT NULL
          AND s.email_normalised NOT LIKE 'erased:%'
        ORDER BY s.withdrawn_at, s.id
    """)
    op.execute(f"""
        INSERT INTO consent_events {COLUMNS}
        SELECT email_normalised, NULL, NULL, NULL, NULL, 'withdrawn', '{BACKFILL}',
               unsubscribed_all_at
        FROM supporters WHERE unsubscribed_all_at IS NOT NULL
        ORDER BY unsubscribed_all_at, id
    """)
    op.execute(f"""
        INSERT INTO consent_events {COLUMNS}
        SELECT p.email_normalised, o.campaign_id, NULL, NULL, NULL, 'withdrawn', '{BACKFILL}',
               o.created_at
        FROM supporter_campaign_optouts o JOIN supporters p ON p.id = o.supporter_id
        ORDER BY o.created_at
    """)
    op.execute(f"""
        INSERT INTO consent_events {COLUMNS}
        SELECT email_normalised, NULL, NULL, NULL, NULL, 'suppressed', 'bounce', created_at
        FROM suppressed_addresses
        ORDER BY created_at
    """)


def downgrade():
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_signature_id"))
        batch_op.drop_index("ix_consent_events_email_normalised")
        batch_op.drop_index(batch_op.f("ix_consent_events_campaign_id"))

    op.drop_table("consent_events")
