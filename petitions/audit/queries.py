from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from petitions.audit.models import AuditEvent
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
