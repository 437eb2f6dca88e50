"""How letters react to other areas: a confirmed letter gets its delivery rows (and the
workers a nudge); a withdrawn one stops whatever has not gone yet; an erased one also loses
its words. Any change of a letter's validity queues its rows for the per-recipient count fold.

Connected once by the app factory. Receivers run inside the sender's unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from petitions.campaigns.models import Action, ActionKind
from petitions.core import events
from petitions.core.dispatch import nudge
from petitions.core.unit_of_work import after_commit
from petitions.extensions import db
from petitions.letters import services
from petitions.letters.counts.jobs import FOLD_TASK
from petitions.letters.jobs import DELIVER_TASK


def _is_letter(action_id: int | None) -> bool:
    if action_id is None:
        return False
    kind = db.session.scalar(select(Action.kind).where(Action.id == action_id))
    return kind == ActionKind.LETTER.value


def on_signature_confirmed(_sender: Any, *, signature_id: int, action_id: int, **_: Any) -> None:
    if not _is_letter(action_id):
        return
    if services.plan_deliveries(signature_id):
        after_commit(nudge, DELIVER_TASK, key=("nudge", DELIVER_TASK))
        after_commit(nudge, FOLD_TASK, key=("nudge", FOLD_TASK))


def on_signatures_withdrawn(_sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    services.stop_undelivered(list(signature_ids))
    on_signatures_restored(_sender, signature_ids=signature_ids)


def on_signatures_restored(_sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    """A signature's validity changed: its letters count (or stop counting) per recipient."""
    if services.flag_for_count(list(signature_ids)):
        after_commit(nudge, FOLD_TASK, key=("nudge", FOLD_TASK))


def on_person_erased(_sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    services.forget(list(signature_ids))


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    events.signature_confirmed.connect(on_signature_confirmed, weak=False)
    events.signatures_withdrawn.connect(on_signatures_withdrawn, weak=False)
    events.signatures_invalidated.connect(on_signatures_withdrawn, weak=False)
    events.signatures_restored.connect(on_signatures_restored, weak=False)
    events.person_erased.connect(on_person_erased, weak=False)
    _connected = True
