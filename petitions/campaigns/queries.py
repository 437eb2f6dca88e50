from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from petitions.campaigns.models import Action, Campaign, CampaignStatus
from petitions.extensions import db


def public_campaigns() -> list[Campaign]:
    """Live campaigns, newest first, with their actions loaded."""
    return list(
        db.session.scalars(
            select(Campaign)
            .where(Campaign.status == CampaignStatus.LIVE.value)
            .options(selectinload(Campaign.actions))
            .order_by(Campaign.published_at.desc().nulls_last(), Campaign.id.desc())
        )
    )


def public_campaign(slug: str) -> Campaign | None:
    """A campaign the public may see: live or closed, never a draft."""
    return db.session.scalar(
        select(Campaign)
        .where(
            Campaign.slug == slug,
            Campaign.status.in_([CampaignStatus.LIVE.value, CampaignStatus.CLOSED.value]),
        )
        .options(selectinload(Campaign.actions), selectinload(Campaign.updates))
    )


def action_of(campaign: Campaign, action_slug: str) -> Action | None:
    return next((a for a in campaign.actions if a.slug == action_slug), None)


def next_action(campaign: Campaign, after: Action, taken: set[int] | None = None) -> Action | None:
    """The campaign's next open call to action after ``after`` (wrapping round)."""
    taken = (taken or set()) | {after.id}
    actions = [a for a in campaign.actions if a.id not in taken and a.is_open()]
    later = [a for a in actions if (a.position, a.id) > (after.position, after.id)]
    candidates = later or actions
    return candidates[0] if candidates else None


def public_action(slug: str, action_slug: str) -> Action | None:
    """One action with its campaign in a single query (the signing hot path)."""
    return db.session.scalar(
        select(Action)
        .join(Action.campaign)
        .where(
            Campaign.slug == slug,
            Action.slug == action_slug,
            Campaign.status.in_([CampaignStatus.LIVE.value, CampaignStatus.CLOSED.value]),
        )
        .options(contains_eager(Action.campaign))
    )
