"""Which ask a page shows, and the dashboard's views and clicks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select

from petitions.campaigns.models import Action
from petitions.donations.models import DonationAsk, DonationHit
from petitions.extensions import db


def ask_for(action: Action) -> DonationAsk | None:
    """The action's own ask, else its campaign's."""
    asks = list(
        db.session.scalars(
            select(DonationAsk).where(
                DonationAsk.campaign_id == action.campaign_id,
                or_(DonationAsk.action_id.is_(None), DonationAsk.action_id == action.id),
            )
        )
    )
    own = [a for a in asks if a.action_id == action.id]
    found = own or asks
    return found[0] if found else None


def asks_of(campaign_id: int) -> list[DonationAsk]:
    return list(
        db.session.scalars(
            select(DonationAsk)
            .where(DonationAsk.campaign_id == campaign_id)
            .order_by(DonationAsk.action_id.is_not(None), DonationAsk.action_id)
        )
    )


def ask_stats(campaign_id: int, action_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """Views and clicks of the campaign's asks (on these actions' pages), by source."""
    query = (
        select(DonationHit.kind, DonationHit.source, func.count())
        .join(DonationAsk, DonationAsk.id == DonationHit.ask_id)
        .where(DonationAsk.campaign_id == campaign_id)
        .group_by(DonationHit.kind, DonationHit.source)
    )
    if action_ids is not None:
        query = query.where(DonationHit.action_id.in_(list(action_ids)))
    stats: dict[str, Any] = {"views": 0, "clicks": 0, "by_source": {}}
    for kind, source, n in db.session.execute(query):
        key = "views" if kind == "view" else "clicks"
        stats[key] += int(n)
        stats["by_source"].setdefault(source, {"views": 0, "clicks": 0})[key] += int(n)
    return stats
