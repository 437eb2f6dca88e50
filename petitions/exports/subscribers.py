"""Exports listen for erasure: no stored export file may still hold an erased person.

When someone is erased, every live export of an action they had signed is regenerated
without them (``services.redo_for_erasure``): the old file is deleted once the erasure has
committed and the job runs again from the anonymised rows.
"""

from __future__ import annotations

from typing import Any

from petitions.core import events
from petitions.exports import services


def _erased(sender: Any, signature_ids: list[int], **_: Any) -> None:
    services.redo_for_erasure(signature_ids)


def connect() -> None:
    events.person_erased.connect(_erased)
