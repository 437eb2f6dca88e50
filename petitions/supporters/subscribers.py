"""Supporters keep each person's consent history, listening to the areas that change it.

* a signature confirmed with the "keep me updated" tick is an agreement (and lifts an earlier
  opt-out of that campaign: the newest choice wins);
* a withdrawn signature that carried the only agreement about its campaign ends it;
* the mailer suppressing an address (a permanent bounce) stops all campaign email.

Receivers run in the sender's transaction, so the history commits or rolls back with the change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, select

from petitions.campaigns.models import Action
from petitions.core import events
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.supporters import consent


def _confirmed(sender: Any, signature_id: int, **_: Any) -> None:
    consent.record_fresh_consent(signature_id)


def _withdrawn(sender: Any, signature_ids: list[int], **_: Any) -> None:
    rows = db.session.execute(
        select(Signature.id, Signature.email_normalised, Signature.action_id, Action.campaign_id)
        .join(Action, Action.id == Signature.action_id)
        .where(
            Signature.id.in_(signature_ids),
            Signature.wants_updates.is_(True),
            Signature.confirmed_at.is_not(None),
        )
    ).all()
    for row in rows:
        still = db.session.scalar(
            select(consent.agreed(row.campaign_id, literal(row.email_normalised)))
        )
        if not still:
            consent.record(
                row.email_normalised,
                consent.WITHDRAWN,
                consent.SOURCE_WITHDRAWAL,
                campaign_id=row.campaign_id,
                action_id=row.action_id,
                signature_id=row.id,
            )


def _consent_changed(sender: Any, email_normalised: str, **kwargs: Any) -> None:
    """kwargs: consent (bool), reason, campaign_id (None: every campaign)."""
    if sender != "mailer" or kwargs.get("consent"):
        return  # supporters record their own changes where they make them
    consent.record(
        email_normalised,
        consent.SUPPRESSED,
        consent.SOURCE_BOUNCE,
        campaign_id=kwargs.get("campaign_id"),
    )


def connect() -> None:
    events.signature_confirmed.connect(_confirmed)
    events.signatures_withdrawn.connect(_withdrawn)
    events.consent_changed.connect(_consent_changed)
