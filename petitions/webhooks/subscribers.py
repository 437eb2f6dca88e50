"""Webhooks listen to signing and supporters: each change queues its delivery rows.

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


@events.signature_confirmed.connect
def _on_confirmed(sender: Any, *, signature_id: int, **_: Any) -> None:
    emit_for_ids(SIGNATURE_CONFIRMED, [signature_id])


@events.signatures_withdrawn.connect
def _on_withdrawn(sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    emit_for_ids(SIGNATURE_WITHDRAWN, signature_ids)


@events.signatures_invalidated.connect
def _on_invalidated(sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    emit_for_ids(SIGNATURE_INVALIDATED, signature_ids)
