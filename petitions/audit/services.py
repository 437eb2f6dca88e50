from __future__ import annotations

from typing import Any

from petitions.audit.models import AuditEvent
from petitions.extensions import db


def record(
    event: str,
    *,
    organiser_id: int | None,
    campaign_id: int | None = None,
    action_id: int | None = None,
    subject_ids: list[int] | None = None,
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current unit of work (it commits with the change it records)."""
    row = AuditEvent(
        event=event,
        organiser_id=organiser_id,
        campaign_id=campaign_id,
        action_id=action_id,
        subject_ids=list(subject_ids or [])[:1000],
        detail=detail or {},
        ip_address=ip_address,
    )
    db.session.add(row)
    return row
