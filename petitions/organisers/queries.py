from __future__ import annotations

from sqlalchemy import select

from petitions.extensions import db
from petitions.organisers.models import Organiser


def all_organisers() -> list[Organiser]:
    return list(db.session.scalars(select(Organiser).order_by(Organiser.email)))


def people_with_access(campaign_id: int) -> list[Organiser]:
    """Organisers given this campaign (besides its owner)."""
    from petitions.organisers.models import CampaignAccess

    return list(
        db.session.scalars(
            select(Organiser)
            .join(CampaignAccess, CampaignAccess.organiser_id == Organiser.id)
            .where(CampaignAccess.campaign_id == campaign_id)
            .order_by(Organiser.email)
        )
    )
