"""signatures: one inbox, one signature (email_canonical is the uniqueness key)

Revision ID: 0010_signature_canonical
Revises: 0009_donations
Create Date: 2026-12-03 07:15:00

The duplicate check moves from ``email_normalised`` to ``email_canonical``: the same address
except at Gmail, where dots and a ``+tag`` are dropped and googlemail.com is gmail.com
(``petitions.core.emails.canonical_email``, copied below as it is today: a migration must not
change when the code does). Rows already stored keep their signatures: where two of one action
fold to the same inbox, the earliest gets the folded key and the later ones keep their
normalised address as their key, so nothing is deleted or merged here.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_signature_canonical"
down_revision = "0009_donations"
branch_labels = None
depends_on = None

_FOLDED = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def _canonical(normalised):
    local, _, domain = normalised.rpartition("@")
    folded = _FOLDED.get(domain)
    if folded is None or not local:
        return normalised
    local = local.split("+", 1)[0].replace(".", "")
    return f"{local or normalised.rpartition('@')[0]}@{folded}"


def upgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_canonical", sa.String(length=254), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE signatures SET email_canonical = email_normalised"))
    rows = bind.execute(
        sa.text(
            "SELECT id, action_id, email_normalised FROM signatures "
            "WHERE email_normalised LIKE '%@gmail.com' OR email_normalised LIKE '%@googlemail.com' "
            "ORDER BY id"
        )
    ).fetchall()
    taken = {(action_id, normalised) for _, action_id, normalised in rows}
    update = sa.text("UPDATE signatures SET email_canonical = :key WHERE id = :id")
    for signature_id, action_id, normalised in rows:
        key = _canonical(normalised)
        if key == normalised:
            continue
        if (action_id, key) in taken:
            continue  # this inbox already signed this action: keep the row, as it was
        taken.add((action_id, key))
        bind.execute(update, {"key": key, "id": signature_id})
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.alter_column(
            "email_canonical", existing_type=sa.String(length=254), nullable=False
        )
        batch_op.drop_constraint("uq_signatures_action_id_email_normalised", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_signatures_action_id_email_canonical"), ["action_id", "email_canonical"]
        )


def downgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_signatures_action_id_email_canonical"), type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_signatures_action_id_email_normalised", ["action_id", "email_normalised"]
        )
        batch_op.drop_column("email_canonical")
