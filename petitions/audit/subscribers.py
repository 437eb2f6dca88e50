"""How the audit log reacts to other areas: an erased person's address, name or IP is blotted
out of what organisers typed into it (a reason, criteria); who did what, and when, stays.

Connected once by the app factory. Receivers run inside the sender's unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from petitions.audit.models import AuditEvent
from petitions.core import events
from petitions.core.erasure import PersonTraces, blot
from petitions.extensions import db


def on_person_erased(_sender: Any, *, traces: PersonTraces | None = None, **_: Any) -> None:
    if not traces:
        return
    # The log is organisers' actions: thousands of rows, not millions; read it in pages.
    rows = db.session.scalars(
        select(AuditEvent).execution_options(yield_per=500).order_by(AuditEvent.id)
    )
    for event in rows:
        detail, changed = blot(event.detail or {}, traces)
        if changed:
            event.detail = detail


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    events.person_erased.connect(on_person_erased, weak=False)
    _connected = True
