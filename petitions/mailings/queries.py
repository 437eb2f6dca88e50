"""What the organiser's mailing pages read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from petitions.campaigns.models import Campaign
from petitions.extensions import db
from petitions.mailings.models import DeliveryStatus, Mailing, MailingDelivery, MailingKind
from petitions.mailings.recipients import recipients_query


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


@dataclass(frozen=True)
class Progress:
    total: int
    counts: dict[str, int]

    @property
    def sent(self) -> int:
        return self.counts.get(DeliveryStatus.SENT.value, 0)

    @property
    def done(self) -> int:
        waiting = {DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING}
        return sum(n for status, n in self.counts.items() if status not in waiting)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, int(self.done * 100 / self.total))


def progress(mailing: Mailing) -> Progress:
    counts = {
        status: int(n)
        for status, n in db.session.execute(
            select(MailingDelivery.status, func.count())
            .where(MailingDelivery.mailing_id == mailing.id)
            .group_by(MailingDelivery.status)
        )
    }
    return Progress(mailing.total, counts)
