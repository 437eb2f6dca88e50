"""Suppressed addresses: where mail must not go any more (a permanent bounce, a complaint).

Every sender checks here before mailing, and the batch sender adds an address on a 5xx.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from petitions.core import events
from petitions.core.sql import dialect_insert
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.models import SuppressedAddress


def is_suppressed(email_normalised: str) -> bool:
    return db.session.get(SuppressedAddress, email_normalised) is not None


def suppressed_among(addresses: set[str]) -> set[str]:
    """Which of these (normalised) addresses are suppressed, in one query."""
    if not addresses:
        return set()
    return set(
        db.session.scalars(
            select(SuppressedAddress.email_normalised).where(
                SuppressedAddress.email_normalised.in_(addresses)
            )
        )
    )


def suppress(email_normalised: str, reason: str) -> None:
    table: Any = SuppressedAddress.__table__
    values = {"email_normalised": email_normalised, "reason": reason[:200], "created_at": utcnow()}
    added = db.session.execute(
        dialect_insert()(table).values(values).on_conflict_do_nothing()
    ).rowcount  # type: ignore[attr-defined]
    if added:
        # No campaign email any more: the supporters' consent history records why.
        events.consent_changed.send(
            "mailer", email_normalised=email_normalised, consent=False, reason="bounce"
        )
