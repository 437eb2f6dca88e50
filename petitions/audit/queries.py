from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from petitions.audit.models import AuditEvent
from petitions.campaigns.models import Action, Campaign
from petitions.extensions import db

PAGE_SIZE = 100


def recent_events(
    *, before_id: int | None = None, event: str | None = None, campaign_id: int | None = None
) -> list[AuditEvent]:
    query = select(AuditEvent).options(selectinload(AuditEvent.organiser))
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    if event:
        query = query.where(AuditEvent.event == event)
    if campaign_id:
        query = query.where(AuditEvent.campaign_id == campaign_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE)))


def names_for(events: list[AuditEvent]) -> tuple[dict[int, Campaign], dict[int, Action]]:
    """The campaigns and actions the events name, to show titles and links instead of ids."""
    campaign_ids = {e.campaign_id for e in events if e.campaign_id}
    action_ids = {e.action_id for e in events if e.action_id}
    campaigns = {
        c.id: c for c in db.session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids)))
    }
    actions = {a.id: a for a in db.session.scalars(select(Action).where(Action.id.in_(action_ids)))}
    return campaigns, actions
