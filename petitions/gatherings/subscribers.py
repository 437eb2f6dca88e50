"""How events react to other areas: a confirmed RSVP takes its place; a signature withdrawn
or erased elsewhere cancels its RSVP (freeing the place for the waitlist); an erased person
loses their answers and their name and email on events they hosted.

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
from petitions.gatherings import queries, services
from petitions.mailer.services import DRAIN_TASK


def _is_event(action_id: int | None) -> bool:
    if action_id is None:
        return False
    kind = db.session.scalar(select(Action.kind).where(Action.id == action_id))
    return kind == ActionKind.EVENT.value


def on_signature_confirmed(_sender: Any, *, signature_id: int, action_id: int, **_: Any) -> None:
    if not _is_event(action_id):
        return
    if services.place_confirmed(signature_id) is not None:
        after_commit(nudge, DRAIN_TASK, key=("nudge", DRAIN_TASK))


def on_signatures_withdrawn(_sender: Any, *, signature_ids: list[int], **_: Any) -> None:
    if services.cancel_rsvps_of_signatures(list(signature_ids)):
        after_commit(nudge, DRAIN_TASK, key=("nudge", DRAIN_TASK))


def on_person_erased(
    _sender: Any, *, email_normalised: str, signature_ids: list[int], **_: Any
) -> None:
    services.erase_answers(list(signature_ids))
    services.erase_host(email_normalised)


def on_person_known(_sender: Any, *, email_normalised: str, **_: Any) -> bool:
    return bool(queries.hosted_by(email_normalised))


def on_person_data_requested(_sender: Any, *, email_normalised: str, **_: Any) -> dict[str, Any]:
    """ "Download my data": the events this person proposed, with what they gave us."""
    return {
        "hosted_events": [
            {
                "title": action.title,
                "campaign": action.campaign.slug,
                "starts_at": details.starts_utc.isoformat(),
                "timezone": details.timezone,
                "place": details.place_line,
                "review": details.review,
                "host_name": details.host_name,
                "host_email": details.host_email,
            }
            for action, details in queries.hosted_by(email_normalised)
        ]
    }


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    events.signature_confirmed.connect(on_signature_confirmed, weak=False)
    events.signatures_withdrawn.connect(on_signatures_withdrawn, weak=False)
    events.person_erased.connect(on_person_erased, weak=False)
    events.person_known.connect(on_person_known, weak=False)
    events.person_data_requested.connect(on_person_data_requested, weak=False)
    _connected = True
