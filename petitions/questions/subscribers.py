"""Answers are erased with the person, and when retention anonymises their signatures.
Connected once by the app factory; receivers run inside the sender's unit of work."""

from __future__ import annotations

from typing import Any

from petitions.core import events
from petitions.questions.services import erase_answers


def on_erased(_sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    erase_answers(list(signature_ids))


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    events.person_erased.connect(on_erased, weak=False)
    events.signatures_anonymised.connect(on_erased, weak=False)
    _connected = True
