"""Webhooks listen to signing, supporters and events (RSVPs): each change queues its rows.

Connected when the app factory imports this module. The rows are written in the sender's
transaction; the workers' wake-up waits for its commit (see ``events.emit_for_ids``).
"""

from __future__ import annotations

from typing import Any

from petitions.core import events
from petitions.webhooks.events import (
    SIGNATURE_CONFIRMED,
    SIGNATURE_INVALIDATED,
    SIGNATURE_WITHDRAWN,
    emit_for_ids,
)
from petitions.webhooks.models import (
    OUTREACH_CONFIRMED,
    OUTREACH_INVALIDATED,
    OUTREACH_WITHDRAWN,
    RSVP_CANCELLED,
    RSVP_CONFIRMED,
    RSVP_PROMOTED,
)


@events.signature_confirmed.connect
def _on_confirmed(sender: Any, *, signature_id: int, **_: Any) -> None:
    emit_for_ids(SIGNATURE_CONFIRMED, [signature_id])
    emit_for_ids(OUTREACH_CONFIRMED, [signature_id])  # letters only


@events.signatures_withdrawn.connect
def _on_withdrawn(sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    emit_for_ids(SIGNATURE_WITHDRAWN, signature_ids)
    emit_for_ids(OUTREACH_WITHDRAWN, signature_ids)


@events.signatures_invalidated.connect
def _on_invalidated(sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    emit_for_ids(SIGNATURE_INVALIDATED, signature_ids)
    emit_for_ids(OUTREACH_INVALIDATED, signature_ids)


@events.rsvp_confirmed.connect
def _on_rsvp_confirmed(sender: Any, *, signature_id: int, **_: Any) -> None:
    emit_for_ids(RSVP_CONFIRMED, [signature_id])


@events.rsvp_cancelled.connect
def _on_rsvp_cancelled(sender: Any, *, signature_id: int, **_: Any) -> None:
    emit_for_ids(RSVP_CANCELLED, [signature_id])


@events.rsvp_promoted.connect
def _on_rsvp_promoted(sender: Any, *, signature_id: int, **_: Any) -> None:
    emit_for_ids(RSVP_PROMOTED, [signature_id])
