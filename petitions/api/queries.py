"""What the public API reads: campaigns, actions and the worker-maintained tallies only.

Nothing here touches the signature table, so no personal data can leak through it and a
surge of readers never competes with signers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from petitions.campaigns.models import Action, Campaign, CampaignStatus
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.gatherings.queries import awaiting_approval, unapproved_among
from petitions.tallies.models import ActionTally, TallyArea, TallyDaily, TallyReferrer

PUBLIC_STATUSES = (CampaignStatus.LIVE.value, CampaignStatus.CLOSED.value)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def campaigns_page(page: int, per_page: int) -> Page:
    """Public campaigns (live, then closed), newest first, with their actions loaded."""
    where = Campaign.status.in_(PUBLIC_STATUSES)
    total = db.session.scalar(select(func.count()).select_from(Campaign).where(where)) or 0
    items = list(
        db.session.scalars(
            select(Campaign)
            .where(where)
            .options(selectinload(Campaign.actions))
            .order_by(Campaign.published_at.desc().nulls_last(), Campaign.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return Page(items, page, per_page, total)


def public_campaign(slug: str) -> Campaign | None:
    return db.session.scalar(
        select(Campaign)
        .where(Campaign.slug == slug, Campaign.status.in_(PUBLIC_STATUSES))
        .options(selectinload(Campaign.actions))
    )


def public_action(slug: str, action_slug: str) -> Action | None:
    return db.session.scalar(
        select(Action)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(
            Campaign.slug == slug,
            Campaign.status.in_(PUBLIC_STATUSES),
            Action.slug == action_slug,
            ~awaiting_approval(),
        )
    )


def public_action_by_id(action_id: int) -> Action | None:
    return db.session.scalar(
        select(Action)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(Action.id == action_id, Campaign.status.in_(PUBLIC_STATUSES), ~awaiting_approval())
    )


def public_actions_page(page: int, per_page: int) -> Page:
    where = Campaign.status.in_(PUBLIC_STATUSES) & ~awaiting_approval()
    total = (
        db.session.scalar(
            select(func.count())
            .select_from(Action)
            .join(Campaign, Campaign.id == Action.campaign_id)
            .where(where)
        )
        or 0
    )
    items = list(
        db.session.scalars(
            select(Action)
            .join(Campaign, Campaign.id == Action.campaign_id)
            .where(where)
            .options(contains_eager(Action.campaign))
            .order_by(Action.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return Page(items, page, per_page, total)


@dataclass(frozen=True)
class CountRow:
    action_id: int
    confirmed: int
    goal: int
    is_open: bool
    updated_at: datetime | None


def action_count(slug: str, action_slug: str) -> CountRow | None:
    """The counter: one indexed query joining the action to its tally row."""
    row = db.session.execute(
        select(
            Action.id,
            Action.goal,
            Action.deadline,
            Action.closed_at,
            Campaign.status,
            ActionTally.confirmed,
            ActionTally.updated_at,
        )
        .join(Campaign, Campaign.id == Action.campaign_id)
        .outerjoin(ActionTally, ActionTally.action_id == Action.id)
        .where(
            Campaign.slug == slug,
            Campaign.status.in_(PUBLIC_STATUSES),
            Action.slug == action_slug,
            ~awaiting_approval(),
        )
    ).first()
    if row is None:
        return None
    today = utcnow().date()
    is_open = (
        row.closed_at is None
        and row.status == CampaignStatus.LIVE.value
        and (row.deadline is None or today <= row.deadline)
    )
    return CountRow(
        action_id=row.id,
        confirmed=row.confirmed or 0,
        goal=row.goal,
        is_open=is_open,
        updated_at=as_utc(row.updated_at),
    )


def breakdowns(action_id: int) -> dict[str, list[dict[str, Any]]]:
    """Confirmed signatures by country, UK postcode area, day, source and referring site."""
    countries = db.session.execute(
        select(TallyArea.country, func.sum(TallyArea.n).label("n"))
        .where(TallyArea.action_id == action_id)
        .group_by(TallyArea.country)
        .order_by(func.sum(TallyArea.n).desc(), TallyArea.country)
    )
    areas = db.session.execute(
        select(TallyArea.postcode_area, TallyArea.n)
        .where(
            TallyArea.action_id == action_id,
            TallyArea.country == "GB",
            TallyArea.postcode_area != "",
        )
        .order_by(TallyArea.n.desc(), TallyArea.postcode_area)
    )
    days = db.session.execute(
        select(TallyDaily.day, func.sum(TallyDaily.n).label("n"))
        .where(TallyDaily.action_id == action_id)
        .group_by(TallyDaily.day)
        .order_by(TallyDaily.day)
    )
    sources = db.session.execute(
        select(TallyDaily.source, func.sum(TallyDaily.n).label("n"))
        .where(TallyDaily.action_id == action_id)
        .group_by(TallyDaily.source)
        .order_by(func.sum(TallyDaily.n).desc(), TallyDaily.source)
    )
    referrers = db.session.execute(
        select(TallyReferrer.referrer, TallyReferrer.n)
        .where(TallyReferrer.action_id == action_id, TallyReferrer.referrer != "")
        .order_by(TallyReferrer.n.desc(), TallyReferrer.referrer)
        .limit(100)
    )
    return {
        "by_country": [{"country": r.country, "count": int(r.n)} for r in countries if r.n],
        "by_postcode_area": [{"area": r.postcode_area, "count": int(r.n)} for r in areas if r.n],
        "by_day": [{"day": r.day, "count": int(r.n)} for r in days if r.n],
        "by_source": [{"source": r.source, "count": int(r.n)} for r in sources if r.n],
        "by_referrer": [{"site": r.referrer, "count": int(r.n)} for r in referrers if r.n],
    }


def confirmed_counts(action_ids: list[int]) -> dict[int, int]:
    from petitions.tallies.queries import confirmed_counts as counts

    return counts(action_ids)


def hidden_actions(campaigns: list[Campaign]) -> set[int]:
    """Actions of these campaigns that no public answer lists (proposals not approved)."""
    return unapproved_among([a.id for c in campaigns for a in c.actions if a.is_event])
