"""Signatures held for review, and the signals kept beside the others, for organisers.

Two kinds (``petitions.screening.checks.assess`` decides, the intake stores its reasons in
``Signature.review_reason``):

* **held** — volume signals (too many from one IP or email domain, one form stamp replayed for
  another address): stored with ``suspect=True``, never counted and not emailed until an
  organiser approves them; rejecting invalidates them;
* **flagged** — signals that a person may still be behind (a form filled in under
  ``ABUSE_MIN_FILL_SECONDS``, a stamp that is old, missing or from another session): emailed
  and counted like any other (the mailbox proves a person), the reason kept so organisers can
  look.

Services flush; the request's unit of work commits, then the email and fold nudges go out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from petitions.audit.services import record
from petitions.campaigns.models import Action
from petitions.core import events
from petitions.core.dispatch import nudge
from petitions.core.time import utcnow
from petitions.core.unit_of_work import after_commit
from petitions.extensions import db
from petitions.mailer.services import DRAIN_TASK, enqueue
from petitions.signing.models import Signature
from petitions.signing.services import CONFIRM_EMAIL_KIND

PAGE_SIZE = 200


def _held(action_id: int) -> tuple[Any, ...]:
    return (
        Signature.action_id == action_id,
        Signature.suspect.is_(True),
        Signature.invalidated_at.is_(None),
        Signature.withdrawn_at.is_(None),
    )


def held_signatures(action_id: int, limit: int = PAGE_SIZE) -> list[Signature]:
    return list(
        db.session.scalars(
            select(Signature).where(*_held(action_id)).order_by(Signature.id).limit(limit)
        )
    )


def count_held(action_ids: list[int]) -> dict[int, int]:
    if not action_ids:
        return {}
    rows = db.session.execute(
        select(Signature.action_id, func.count())
        .where(
            Signature.action_id.in_(action_ids),
            Signature.suspect.is_(True),
            Signature.invalidated_at.is_(None),
            Signature.withdrawn_at.is_(None),
        )
        .group_by(Signature.action_id)
    )
    return {action_id: int(n) for action_id, n in rows}


def flagged_signatures(action_id: int, limit: int = PAGE_SIZE) -> list[Signature]:
    """Emailed and counted as usual, with a signal kept for review (newest first)."""
    return list(
        db.session.scalars(
            select(Signature)
            .where(
                Signature.action_id == action_id,
                Signature.suspect.is_(False),
                Signature.review_reason.is_not(None),
                Signature.reviewed_at.is_(None),
                Signature.invalidated_at.is_(None),
            )
            .order_by(Signature.id.desc())
            .limit(limit)
        )
    )


def approve(action: Action, ids: list[int], *, organiser_id: int) -> list[int]:
    """Release held signatures: they count (once confirmed) and get their confirmation email."""
    if not ids:
        return []
    now = utcnow()
    approved = list(
        db.session.scalars(
            update(Signature)
            .where(Signature.id.in_(ids), *_held(action.id))
            # confirm_emails_sent is already 1 (set at signing for the first email, which a
            # held signature never got): this is that first email.
            .values(suspect=False, reviewed_at=now, needs_count=True)
            .returning(Signature.id)
            .execution_options(synchronize_session=False)
        )
    )
    for signature_id in approved:
        enqueue(CONFIRM_EMAIL_KIND, signature_id)
    if approved:
        record(
            "signatures.review.approve",
            organiser_id=organiser_id,
            campaign_id=action.campaign_id,
            action_id=action.id,
            subject_ids=approved,
        )
        events.counts_changed.send("abuse", action_ids=[action.id])
        after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
    return approved


def reject(action: Action, ids: list[int], *, organiser_id: int) -> list[int]:
    """Reject held signatures: invalidated (kept, never counted, never emailed)."""
    if not ids:
        return []
    now = utcnow()
    rejected = list(
        db.session.scalars(
            update(Signature)
            .where(Signature.id.in_(ids), *_held(action.id))
            .values(invalidated_at=now, reviewed_at=now, needs_count=True)
            .returning(Signature.id)
            .execution_options(synchronize_session=False)
        )
    )
    if rejected:
        record(
            "signatures.review.reject",
            organiser_id=organiser_id,
            campaign_id=action.campaign_id,
            action_id=action.id,
            subject_ids=rejected,
        )
    return rejected
