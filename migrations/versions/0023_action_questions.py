"""actions: custom questions and each signature's answers

Revision ID: 0023_action_questions
Revises: 0022_signature_language
Create Date: 2026-12-03 13:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023_action_questions"
down_revision = "0022_signature_language"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "action_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_questions_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_questions")),
        sa.UniqueConstraint("action_id", "key", name=op.f("uq_action_questions_action_id_key")),
    )
    op.create_index(op.f("ix_action_questions_action_id"), "action_questions", ["action_id"])
    op.create_table(
        "signature_answers",
        sa.Column(
            "signature_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["action_questions.id"],
            name=op.f("fk_signature_answers_question_id_action_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_signature_answers_signature_id_signatures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "signature_id", "question_id", name=op.f("pk_signature_answers")
        ),
    )


def downgrade():
    op.drop_table("signature_answers")
    op.drop_index(op.f("ix_action_questions_action_id"), table_name="action_questions")
    op.drop_table("action_questions")
