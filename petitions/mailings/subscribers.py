"""Mailings react to the supporters area's privacy events (erasure, retention, data requests)."""

from __future__ import annotations

from typing import Any

from petitions.core import events
from petitions.mailings import privacy


def on_person_erased(_sender: Any, *, email_normalised: str, **_: Any) -> None:
    privacy.erase_address(email_normalised)


def on_signatures_anonymised(_sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    privacy.anonymise_signatures(list(signature_ids))


def on_person_data_requested(_sender: Any, *, email_normalised: str, **_: Any) -> dict[str, Any]:
    return {"campaign_emails": privacy.emails_sent_to(email_normalised)}


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    events.person_erased.connect(on_person_erased, weak=False)
    events.signatures_anonymised.connect(on_signatures_anonymised, weak=False)
    events.person_data_requested.connect(on_person_data_requested, weak=False)
    _connected = True
