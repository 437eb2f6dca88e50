"""action_consents: an action's consent wording in other languages, a version each

Revision ID: 0029_action_consents
Revises: 0028_update_translations
Create Date: 2026-12-05 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029_action_consents"
down_revision = "0028_update_translations"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "action_consents",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("consent_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_consents_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consent_version_id"],
            ["consent_versions.id"],
            name=op.f("fk_action_consents_consent_version_id_consent_versions"),
        ),
        sa.PrimaryKeyConstraint("action_id", "language", name=op.f("pk_action_consents")),
    )


def downgrade():
    op.drop_table("action_consents")
