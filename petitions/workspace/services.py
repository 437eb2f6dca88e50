"""Invalidating or restoring an organiser's selection of signatures (searching them is
``workspace.queries``).

An invalidation only sets ``invalidated_at`` and ``needs_count``: the count worker folds the
change into the tallies the same way it folds a confirmation, so counts follow without any
request touching a tally row. Each change is announced (``core.events``): webhooks and
counting's nudge follow from their subscribers.
"""

from __future__ import annotations

from sqlalchemy import update

from petitions.audit.services import record
from petitions.campaigns.models import Action
from petitions.core import events
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.signing.models import Signature

MAX_SELECTION = 1000


def _change(
    action: Action,
    ids: list[int],
    *,
    invalidate: bool,
    organiser_id: int,
    reason: str,
    ip_address: str | None,
) -> list[int]:
    ids = sorted({int(i) for i in ids})[:MAX_SELECTION]
    if not ids:
        return []
    condition = (
        Signature.invalidated_at.is_(None) if invalidate else Signature.invalidated_at.is_not(None)
    )
    changed = list(
        db.session.scalars(
            update(Signature)
            .where(Signature.action_id == action.id, Signature.id.in_(ids), condition)
            .values(invalidated_at=utcnow() if invalidate else None, needs_count=True)
            .returning(Signature.id)
            .execution_options(synchronize_session=False)
        )
    )
    if changed:
        signal = events.signatures_invalidated if invalidate else events.signatures_restored
        signal.send("workspace", signature_ids=changed)
    if changed:
        record(
            "signature.invalidate" if invalidate else "signature.restore",
            organiser_id=organiser_id,
            campaign_id=action.campaign_id,
            action_id=action.id,
            subject_ids=changed,
            detail={"count": len(changed), "reason": reason[:200]}
            if reason
            else {"count": len(changed)},
            ip_address=ip_address,
        )
    return changed


def invalidate_signatures(
    action: Action,
    ids: list[int],
    *,
    organiser_id: int,
    reason: str = "",
    ip_address: str | None = None,
) -> list[int]:
    """Mark these signatures invalid (they stop counting once folded). Returns those changed."""
    return _change(
        action,
        ids,
        invalidate=True,
        organiser_id=organiser_id,
        reason=reason,
        ip_address=ip_address,
    )


def restore_signatures(
    action: Action,
    ids: list[int],
    *,
    organiser_id: int,
    reason: str = "",
    ip_address: str | None = None,
) -> list[int]:
    """Undo an invalidation. Returns those changed."""
    return _change(
        action,
        ids,
        invalidate=False,
        organiser_id=organiser_id,
        reason=reason,
        ip_address=ip_address,
    )
