"""What signing only reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.signing.models import Signature
from petitions.signing.services import CONFIRM_EMAIL_KIND


def taken_action_ids(email_normalised: str, campaign_id: int | None = None) -> set[int]:
    """Actions this address has signed (withdrawn ones too: those were a choice)."""
    query = select(Signature.action_id).where(Signature.email_normalised == email_normalised)
    if campaign_id is not None:
        query = query.join(Action, Action.id == Signature.action_id).where(
            Action.campaign_id == campaign_id
        )
    return set(db.session.scalars(query))


@dataclass(frozen=True)
class Undelivered:
    """A confirmation email the outbox gave up on, and why, for the organiser."""

    signature_id: int
    name: str
    email: str
    failed_at: datetime | None
    reason: str


def describe_delivery_failure(last_error: str | None) -> str:
    """The outbox's terse ``last_error`` in words an organiser can act on."""
    error = last_error or ""
    if error.startswith("smtp 5"):
        return f"the recipient's mail server refused it ({error})"
    if error == "address suppressed":
        return "earlier email to this address was refused, so it is no longer mailed"
    if error.startswith(("address cannot be sent", "cannot be built")):
        return "the address cannot be used for email as it is written"
    if error.startswith("gave up"):
        return f"delivery kept failing, so it was given up ({error.partition(': ')[2] or error})"
    return error or "unknown"


def undelivered_confirmations(action_id: int, limit: int = 50) -> tuple[int, list[Undelivered]]:
    """Confirmation emails of this action that failed for good (not erasures): how many, and
    the latest ``limit`` with their reasons."""
    failed = (
        OutboxMessage.kind == CONFIRM_EMAIL_KIND,
        OutboxMessage.failed_at.is_not(None),
        func.coalesce(OutboxMessage.last_error, "") != "erased",
        Signature.action_id == action_id,
    )
    joined = select(OutboxMessage).join(Signature, Signature.id == OutboxMessage.ref_id)
    total = (
        db.session.scalar(joined.where(*failed).with_only_columns(func.count(OutboxMessage.id)))
        or 0
    )
    rows = db.session.execute(
        select(
            Signature.id,
            Signature.name,
            Signature.email,
            OutboxMessage.failed_at,
            OutboxMessage.last_error,
        )
        .join(Signature, Signature.id == OutboxMessage.ref_id)
        .where(*failed)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return int(total), [
        Undelivered(sid, name, email, failed_at, describe_delivery_failure(error))
        for sid, name, email, failed_at, error in rows
    ]
