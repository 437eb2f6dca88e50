"""What the organiser's mailing pages read."""

from __future__ import annotations

from sqlalchemy import func, select

from petitions.campaigns.models import Campaign
from petitions.extensions import db
from petitions.mailings.models import Mailing, MailingKind
from petitions.mailings.services import recipients_query


def mailings_of(campaign: Campaign) -> list[Mailing]:
    return list(
        db.session.scalars(
            select(Mailing)
            .where(Mailing.campaign_id == campaign.id)
            .order_by(Mailing.created_at.desc(), Mailing.id.desc())
        )
    )


def mailing_of(campaign: Campaign, mailing_id: int) -> Mailing | None:
    return db.session.scalar(
        select(Mailing).where(Mailing.id == mailing_id, Mailing.campaign_id == campaign.id)
    )


def audience_size(campaign: Campaign) -> int:
    """How many people an update mailing would reach right now."""
    probe = Mailing(campaign_id=campaign.id, kind=MailingKind.UPDATE.value)
    query = recipients_query(probe).subquery()
    return int(db.session.scalar(select(func.count()).select_from(query)) or 0)
