"""What mailings keep about a person, and how it is reported and erased.

A delivery row keeps its status for the organiser's figures; erasure and retention take the
address (and the link to the signature) away and skip anything not yet sent. The supporters
area announces erasure, retention and "download my data" as events; this module answers them
(connected in :mod:`petitions.mailings.subscribers`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, literal, select, update

from petitions.core.time import as_utc
from petitions.extensions import db
from petitions.mailings.models import DeliveryStatus, Mailing, MailingDelivery
from petitions.supporters.models import ERASED_PREFIX


def anonymise_deliveries(where: Any) -> int:
    """Deliveries matching ``where`` lose the address; any not yet sent are skipped."""
    db.session.execute(
        update(MailingDelivery)
        .where(
            where,
            MailingDelivery.status.in_(
                [DeliveryStatus.PENDING.value, DeliveryStatus.CLAIMED.value]
            ),
        )
        .values(status=DeliveryStatus.SKIPPED.value, claimed_until=None, error="erased")
        .execution_options(synchronize_session=False)
    )
    return int(
        db.session.execute(
            update(MailingDelivery)
            .where(where)
            .values(
                email_normalised=literal(ERASED_PREFIX) + cast(MailingDelivery.id, String),
                signature_id=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    )


def erase_address(email_normalised: str) -> int:
    return anonymise_deliveries(MailingDelivery.email_normalised == email_normalised)


def anonymise_signatures(signature_ids: list[int]) -> int:
    return anonymise_deliveries(
        MailingDelivery.signature_id.in_(signature_ids)
        & MailingDelivery.email_normalised.not_like(ERASED_PREFIX + "%")
    )


def emails_sent_to(email_normalised: str) -> list[dict[str, Any]]:
    """The campaign emails this address was sent (or due to be), for "download my data"."""
    rows = db.session.execute(
        select(
            Mailing.subject, Mailing.campaign_id, MailingDelivery.status, MailingDelivery.sent_at
        )
        .join(Mailing, Mailing.id == MailingDelivery.mailing_id)
        .where(MailingDelivery.email_normalised == email_normalised)
        .order_by(MailingDelivery.id)
    )
    return [
        {
            "subject": row.subject,
            "campaign_id": row.campaign_id,
            "status": row.status,
            "sent_at": (moment.isoformat() if (moment := as_utc(row.sent_at)) else None),
        }
        for row in rows
    ]
