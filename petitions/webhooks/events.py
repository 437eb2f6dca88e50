"""Emitting webhook events: delivery rows written in the same transaction as the change.

Call these from the service that changes a signature, before its unit of work commits:

    from petitions.webhooks import events
    events.signature_withdrawn(signature)      # or signature_invalidated / signature_confirmed
    events.emit_for_ids(events.SIGNATURE_INVALIDATED, ids)   # many at once

Nothing is sent here. The wake-up goes on the unit of work's after-commit queue
(:func:`petitions.core.unit_of_work.after_commit`): after the commit the workers are nudged
once; the periodic sweep delivers anything a lost nudge missed. A rollback takes the rows and
the nudge with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select

from petitions.campaigns.models import Action
from petitions.core import task_names
from petitions.core.dispatch import nudge
from petitions.core.time import utcnow
from petitions.core.unit_of_work import after_commit
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.webhooks.models import (
    EVENT_KIND,
    EVENTS,
    SIGNATURE_CONFIRMED,
    SIGNATURE_INVALIDATED,
    SIGNATURE_WITHDRAWN,
    WebhookDelivery,
    WebhookEndpoint,
)

DELIVER_TASK = task_names.DELIVER_WEBHOOKS


def emit(event_name: str, signature: Signature) -> int:
    """Queue ``event_name`` about ``signature`` for every endpoint of its campaign that wants it.

    Returns how many deliveries were queued (flushed, not committed).
    """
    return emit_for_ids(event_name, [signature.id])


def emit_for_ids(event_name: str, signature_ids: Iterable[int]) -> int:
    """The same for many signatures at once (bulk invalidation, withdrawals by email)."""
    if event_name not in EVENTS:
        raise ValueError(f"unknown webhook event {event_name!r}")
    ids = sorted(set(signature_ids))
    if not ids:
        return 0
    query = (
        select(Signature.id, WebhookEndpoint.id, WebhookEndpoint.events)
        .join(Action, Action.id == Signature.action_id)
        .join(WebhookEndpoint, WebhookEndpoint.campaign_id == Action.campaign_id)
        .where(Signature.id.in_(ids), WebhookEndpoint.active.is_(True))
    )
    if event_name in EVENT_KIND:  # outreach.* only for letters
        query = query.where(Action.kind == EVENT_KIND[event_name])
    pairs = db.session.execute(query).all()
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "endpoint_id": endpoint_id,
            "event": event_name,
            "signature_id": signature_id,
            "idempotency_key": str(uuid.uuid4()),
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for signature_id, endpoint_id, wanted in pairs
        if event_name in (wanted or EVENTS)
    ]
    if rows:
        db.session.execute(insert(WebhookDelivery), rows)
        after_commit(nudge, DELIVER_TASK, key=DELIVER_TASK)
    return len(rows)


def signature_confirmed(signature: Signature) -> int:
    return emit(SIGNATURE_CONFIRMED, signature)


def signature_withdrawn(signature: Signature) -> int:
    return emit(SIGNATURE_WITHDRAWN, signature)


def signature_invalidated(signature: Signature) -> int:
    return emit(SIGNATURE_INVALIDATED, signature)
