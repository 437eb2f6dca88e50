"""What signing only reads."""

from __future__ import annotations

from sqlalchemy import select

from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.signing.models import Signature


def taken_action_ids(email_normalised: str, campaign_id: int | None = None) -> set[int]:
    """Actions this address has signed (withdrawn ones too: those were a choice)."""
    query = select(Signature.action_id).where(Signature.email_normalised == email_normalised)
    if campaign_id is not None:
        query = query.join(Action, Action.id == Signature.action_id).where(
            Action.campaign_id == campaign_id
        )
    return set(db.session.scalars(query))
