"""Events and RSVPs: what changes state. Services flush; the unit of work commits.

Places are given out when an RSVP is confirmed, under ``SELECT ... FOR UPDATE`` on the
event's :class:`EventDetails` row: confirmations of one event queue behind that lock, each
counts the places taken and takes one or joins the waitlist, so capacity is never exceeded.
Cancelling an RSVP frees its place and, under the same lock, promotes the first person on the
waitlist. Every email goes through the outbox (written in the same transaction).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app
from flask_babel import format_date, format_number
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions.campaigns.models import Action, ActionKind, Campaign
from petitions.campaigns.services import DEFAULT_CONSENT, consent_version, merged_translations
from petitions.core import events
from petitions.core.i18n import N_, NATIVE_NAMES
from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.gatherings.models import (
    HOLDS_PLACE,
    DeliveryStatus,
    EventDelivery,
    EventDetails,
    EventHosting,
    FollowUp,
    ReviewState,
    Rsvp,
    RsvpStatus,
)
from petitions.mailer.services import enqueue
from petitions.signing.models import Signature
from petitions.signing.services import CONFIRM_EMAIL_KIND

PLACED_EMAIL = "rsvp_placed"  # going, waitlisted or full: with the .ics when going
PROMOTED_EMAIL = "rsvp_promoted"
RSVP_CANCELLED_EMAIL = "rsvp_cancelled"
EVENT_CHANGED_EMAIL = "event_changed"
EVENT_CANCELLED_EMAIL = "event_cancelled"
HOST_EMAIL = "event_host"  # to a supporter who proposed an event: received / approved / not

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_KEY_CHARS = re.compile(r"[^a-z0-9_]+")


class EventError(ValueError):
    """Event details that cannot be accepted; the message says why, for the organiser."""


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    sensitive: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "sensitive": self.sensitive}


@dataclass(frozen=True)
class EventInput:
    title: str
    description: str
    starts_local: datetime  # naive: wall-clock time in ``timezone``
    ends_local: datetime
    timezone: str
    venue: str = ""
    address: str = ""
    postcode: str = ""
    online_url: str = ""
    capacity: int | None = None
    waitlist: bool = True
    questions: list[Question] = field(default_factory=list)
    # The venue and address in other languages ({"cy": {"venue": …, "address": …}}), kept with
    # the action's words (``EventDetails.place_line`` reads them); empty: the default's.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)


def _one_line(label: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if has_control_chars(value) or has_invisible_chars(value):
        raise EventError(
            _(
                "%(label)s: use one line of text (no line breaks or control characters).",
                label=label,
            )
        )
    if len(value) > limit:
        raise EventError(
            _("%(label)s can be up to %(limit)s characters.", label=label, limit=limit)
        )
    return value


def parse_questions(text: str) -> list[Question]:
    """One question a line; a line starting with ``!`` is sensitive (e.g. access needs)."""
    questions: list[Question] = []
    seen: set[str] = set()
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        sensitive = line.startswith("!")
        label = _one_line(_("A question"), line.lstrip("!").strip(), 200)
        if not label:
            continue
        key = _KEY_CHARS.sub("_", label.lower()).strip("_")[:40] or "q"
        while key in seen:
            key = f"{key}_"
        seen.add(key)
        questions.append(Question(key, label, sensitive))
    if len(questions) > 10:
        raise EventError(_("An event can ask up to 10 questions."))
    return questions


def zone_for(name: str) -> ZoneInfo:
    name = (name or "").strip()
    if not name or name not in available_timezones():
        raise EventError(
            _("Unknown time zone %(name)s: use a name like Europe/London.", name=repr(name[:64]))
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise EventError(_("Unknown time zone %(name)s.", name=repr(name[:64]))) from exc


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as UTC. A time that does not exist (the hour skipped when
    clocks go forward) is refused; an ambiguous one (the hour repeated) is the first."""
    aware = local.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise EventError(
            _(
                "%(time)s on %(day)s does not exist in %(zone)s (the clocks change then): "
                "choose another time.",
                time=f"{local:%H:%M}",
                day=format_date(local.date(), "dd MMMM y"),
                zone=zone.key,
            )
        )
    return aware.astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class CleanEvent:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue: str
    address: str
    postcode: str
    online_url: str
    capacity: int | None
    waitlist: bool
    questions: list[Question]
    translations: dict[str, dict[str, str]]


_PLACE_WORDS = {"venue": ("Venue", 200), "address": ("Address", 300)}


def _clean_translations(translations: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The other languages' venue and address, checked as the default ones are."""
    return {
        language: {
            key: _one_line(
                f"{_(_PLACE_WORDS[key][0])} ({NATIVE_NAMES.get(language, language)})",
                value,
                _PLACE_WORDS[key][1],
            )
            for key, value in words.items()
        }
        for language, words in (translations or {}).items()
    }


def clean_event(data: EventInput, *, new: bool, now: datetime | None = None) -> CleanEvent:
    """Check an event's details; raise :class:`EventError` with a message for the organiser."""
    title = _one_line(_("Title"), data.title, 200)
    if not title:
        raise EventError(_("Enter a title."))
    description = data.description or ""
    if has_control_chars(description, allow_newlines=True) or has_invisible_chars(description):
        raise EventError(_("Description: remove the control or invisible characters."))
    if len(description) > 20_000:
        raise EventError(
            _("The description can be up to %(limit)s characters.", limit=format_number(20_000))
        )
    zone = zone_for(data.timezone)
    starts_at = to_utc(data.starts_local, zone)
    ends_at = to_utc(data.ends_local, zone)
    if ends_at <= starts_at:
        raise EventError(_("The event must end after it starts."))
    if new and starts_at <= (now or utcnow()):
        raise EventError(_("A new event must start in the future."))
    venue = _one_line(_("Venue"), data.venue, 200)
    address = _one_line(_("Address"), data.address, 300)
    postcode = _one_line(_("Postcode"), data.postcode, 16).upper()
    online_url = _one_line(_("Online link"), data.online_url, 500)
    if online_url and not re.match(r"^https?://[^\s/$.?#][^\s]*$", online_url, re.IGNORECASE):
        raise EventError(
            _("The online link must be a web address starting with http:// or https://.")
        )
    if not (venue or address or online_url):
        raise EventError(_("Give a place (venue or address), an online link, or both."))
    if data.capacity is not None and data.capacity <= 0:
        raise EventError(_("Capacity must be a whole number above 0 (or empty for no limit)."))
    if data.capacity is not None and data.capacity > 1_000_000:
        raise EventError(_("Capacity can be at most %(limit)s.", limit=format_number(1_000_000)))
    return CleanEvent(
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=zone.key,
        venue=venue,
        address=address,
        postcode=postcode,
        online_url=online_url,
        capacity=data.capacity,
        waitlist=bool(data.waitlist),
        questions=list(data.questions),
        translations=_clean_translations(data.translations),
    )


def _free_slug(campaign_id: int, title: str) -> str:
    base = _SLUG_CHARS.sub("-", title.lower()).strip("-")[:70] or "event"
    slug, n = base, 1
    while db.session.scalar(
        select(Action.id).where(Action.campaign_id == campaign_id, Action.slug == slug)
    ):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _postcode_area(postcode: str) -> str:
    match = re.match(r"^([A-Z]{1,2})\d", postcode.replace(" ", ""))
    return match.group(1) if match else ""


def create_event(campaign: Campaign, data: EventInput, *, now: datetime | None = None) -> Action:
    """A new event on ``campaign`` (an Action of kind ``event`` plus its details). Flushes."""
    clean = clean_event(data, new=True, now=now)
    last = db.session.scalar(
        select(func.max(Action.position)).where(Action.campaign_id == campaign.id)
    )
    action = Action(
        campaign_id=campaign.id,
        kind=ActionKind.EVENT.value,
        slug=_free_slug(campaign.id, clean.title),
        title=clean.title,
        text=clean.description,
        goal=clean.capacity or 100,
        consent_version_id=consent_version(DEFAULT_CONSENT).id,
        thank_you="",
        position=(last or 0) + 1,
    )
    db.session.add(action)
    action.translations = merged_translations({}, clean.translations)
    db.session.flush()
    details = EventDetails(
        action_id=action.id,
        uid=f"event-{action.id}-{secrets.token_hex(6)}@petitions",
        sequence=0,
    )
    _apply(details, clean)
    db.session.add(details)
    db.session.flush()
    return action


def _apply(details: EventDetails, clean: CleanEvent) -> None:
    details.starts_at = clean.starts_at
    details.ends_at = clean.ends_at
    details.timezone = clean.timezone
    details.venue = clean.venue
    details.address = clean.address
    details.postcode = clean.postcode
    details.postcode_area = _postcode_area(clean.postcode)
    details.online_url = clean.online_url
    details.capacity = clean.capacity
    details.waitlist = clean.waitlist
    details.questions = [q.as_dict() for q in clean.questions]
    details.updated_at = utcnow()


@dataclass(frozen=True)
class EditOutcome:
    told: int  # attendees told of the change
    changed: list[str]  # which of time / place / link changed


def update_event(action: Action, data: EventInput) -> EditOutcome:
    """Save new details; if the time or place changed, raise SEQUENCE and tell attendees."""
    details = details_for_update(action.id)
    if details.is_cancelled:
        raise EventError(_("This event was cancelled; it can no longer be changed."))
    clean = clean_event(data, new=False)
    changed = []
    if (clean.starts_at, clean.ends_at) != (details.starts_utc, details.ends_utc) or (
        clean.timezone != details.timezone
    ):
        changed.append("time")
    if (clean.venue, clean.address, clean.postcode) != (
        details.venue,
        details.address,
        details.postcode,
    ):
        changed.append("place")
    if clean.online_url != details.online_url:
        changed.append("online link")
    action.title = clean.title
    action.text = clean.description
    # Only the event form's words: the action form's (the title, the consent) stay.
    action.translations = merged_translations(action.translations, clean.translations)
    if clean.capacity is not None:
        action.goal = clean.capacity
    old_capacity = details.capacity
    _apply(details, clean)
    told = 0
    if changed:
        details.sequence += 1
        told = _tell_attendees(action.id, EVENT_CHANGED_EMAIL)
    db.session.flush()
    if clean.capacity is None or (old_capacity is not None and clean.capacity > old_capacity):
        promote_waitlist(action.id)
    return EditOutcome(told=told, changed=changed)


def cancel_event(action: Action) -> int:
    """Cancel the event: close it, raise SEQUENCE, tell everyone holding a place or waiting."""
    details = details_for_update(action.id)
    if details.is_cancelled:
        return 0
    now = utcnow()
    details.cancelled_at = now
    details.sequence += 1
    action.closed_at = action.closed_at or now
    told = _tell_attendees(action.id, EVENT_CANCELLED_EMAIL)
    db.session.flush()
    return told


def _tell_attendees(action_id: int, kind: str) -> int:
    ids = list(
        db.session.scalars(
            select(Rsvp.id).where(
                Rsvp.action_id == action_id,
                Rsvp.status.in_([RsvpStatus.GOING.value, RsvpStatus.WAITLISTED.value]),
            )
        )
    )
    for rsvp_id in ids:
        enqueue(kind, rsvp_id)
    return len(ids)


def details_for_update(action_id: int) -> EventDetails:
    """The event's details, locked for this transaction (the queue for its places)."""
    details = db.session.scalar(
        select(EventDetails)
        .where(EventDetails.action_id == action_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if details is None:
        raise LookupError(f"no event details for action {action_id}")
    return details


# --- RSVPs ------------------------------------------------------------------------------------


def clean_answers(
    questions: list[dict[str, Any]], submitted: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Split answers to the event's questions into (ordinary, sensitive); unknown keys dropped."""
    answers: dict[str, str] = {}
    sensitive: dict[str, str] = {}
    for question in questions:
        value = (submitted.get(question["key"]) or "").strip()[:500]
        if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
            raise EventError(
                _(
                    "%(label)s: remove the control or invisible characters.",
                    label=question["label"],
                )
            )
        if not value:
            continue
        (sensitive if question.get("sensitive") else answers)[question["key"]] = value
    return answers, sensitive


def _insert() -> Any:
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


def record_rsvp(
    action: Action, signature_id: int, answers: dict[str, str], sensitive: dict[str, str]
) -> Rsvp | None:
    """The RSVP row for a stored signature (made once; a pending one takes the latest answers;
    a cancelled one is opened again, see :func:`reopen_rsvp`).

    Two submissions racing for one signature make one row (``ON CONFLICT DO NOTHING`` on the
    UNIQUE signature id). A signature id of 0 (a dropped or suspect submission) records nothing.
    """
    if not signature_id:
        return None
    db.session.execute(
        _insert()(Rsvp.__table__)
        .values(
            signature_id=signature_id,
            action_id=action.id,
            status=RsvpStatus.PENDING.value,
            answers=answers,
            sensitive_answers=sensitive,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["signature_id"])
    )
    rsvp = db.session.scalar(
        select(Rsvp)
        .where(Rsvp.signature_id == signature_id)
        .execution_options(populate_existing=True)
    )
    assert rsvp is not None
    if rsvp.status == RsvpStatus.PENDING.value:
        rsvp.answers = answers
        rsvp.sensitive_answers = sensitive
    elif rsvp.status == RsvpStatus.CANCELLED.value:
        reopen_rsvp(rsvp, answers, sensitive)
    db.session.flush()
    return rsvp


def reopen_rsvp(rsvp: Rsvp, answers: dict[str, str], sensitive: dict[str, str]) -> bool:
    """Someone who cancelled RSVPs again: the same RSVP (and signature) starts over as pending
    and a new confirmation email is queued, so the mailbox is proved again before it takes a
    place (at the back of the queue). Reminders not yet sent to it are planned afresh; one it
    already received is not sent twice. Returns True if a confirmation was queued.

    Nothing is reopened for a cancelled event or an invalidated or held signature.
    """
    details = details_for_update(rsvp.action_id)
    db.session.refresh(rsvp)
    if rsvp.status != RsvpStatus.CANCELLED.value or details.is_cancelled:
        return False
    reopened = db.session.execute(
        update(Signature)
        .where(
            Signature.id == rsvp.signature_id,
            Signature.withdrawn_at.is_not(None),
            Signature.invalidated_at.is_(None),
            Signature.suspect.is_(False),
        )
        .values(withdrawn_at=None, confirmed_at=None, needs_count=True, confirm_emails_sent=1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not reopened:
        return False
    rsvp.status = RsvpStatus.PENDING.value
    rsvp.placed_at = None
    rsvp.cancelled_at = None
    rsvp.checked_in_at = None
    rsvp.answers = answers
    rsvp.sensitive_answers = sensitive
    db.session.execute(
        delete(EventDelivery)
        .where(
            EventDelivery.rsvp_id == rsvp.id,
            EventDelivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SKIPPED.value]),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    enqueue(CONFIRM_EMAIL_KIND, rsvp.signature_id)
    return True


def place_confirmed(signature_id: int) -> Rsvp | None:
    """A confirmed RSVP takes a place, joins the waitlist, or is told the event is full.

    Idempotent: only a pending RSVP is placed. Runs under the event's row lock.
    """
    rsvp_id = db.session.scalar(select(Rsvp.id).where(Rsvp.signature_id == signature_id))
    if rsvp_id is None:
        signature = db.session.get(Signature, signature_id)
        if signature is None or not signature.action.is_event:
            return None
        # Confirmed before its RSVP row existed (e.g. signed through the API): no answers.
        record_rsvp(signature.action, signature_id, {}, {})
        rsvp_id = db.session.scalar(select(Rsvp.id).where(Rsvp.signature_id == signature_id))
    rsvp = db.session.get(Rsvp, rsvp_id)
    assert rsvp is not None
    details = details_for_update(rsvp.action_id)
    db.session.refresh(rsvp)
    if rsvp.status != RsvpStatus.PENDING.value:
        return rsvp
    rsvp.placed_at = utcnow()
    if details.capacity is None or places_taken(rsvp.action_id) < details.capacity:
        rsvp.status = RsvpStatus.GOING.value
    elif details.waitlist:
        rsvp.status = RsvpStatus.WAITLISTED.value
    else:
        rsvp.status = RsvpStatus.FULL.value
    db.session.flush()
    enqueue(PLACED_EMAIL, rsvp.id)
    events.rsvp_confirmed.send(
        "gatherings",
        rsvp_id=rsvp.id,
        signature_id=rsvp.signature_id,
        action_id=rsvp.action_id,
        status=rsvp.status,
    )
    return rsvp


def places_taken(action_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count(Rsvp.id)).where(
                Rsvp.action_id == action_id, Rsvp.status.in_(HOLDS_PLACE)
            )
        )
        or 0
    )


def cancel_rsvp(rsvp: Rsvp, *, tell: bool = True) -> list[int]:
    """Cancel an RSVP (from its email or "My actions"); returns the RSVP ids promoted.

    The signature is withdrawn too, so it leaves the counts.
    """
    details = details_for_update(rsvp.action_id)
    db.session.refresh(rsvp)
    if rsvp.status == RsvpStatus.CANCELLED.value:
        return []
    had_place = rsvp.holds_place
    now = utcnow()
    rsvp.status = RsvpStatus.CANCELLED.value
    rsvp.cancelled_at = now
    withdrawn = db.session.execute(
        update(Signature)
        .where(Signature.id == rsvp.signature_id, Signature.withdrawn_at.is_(None))
        .values(withdrawn_at=now, needs_count=True)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.flush()
    if withdrawn:  # counting, webhooks and history hear of it like any withdrawal
        events.signatures_withdrawn.send(None, signature_ids=[rsvp.signature_id])
    events.rsvp_cancelled.send(
        "gatherings", rsvp_id=rsvp.id, signature_id=rsvp.signature_id, action_id=rsvp.action_id
    )
    if tell and not details.is_cancelled:
        enqueue(RSVP_CANCELLED_EMAIL, rsvp.id)
    if had_place and not details.is_cancelled:
        return promote_waitlist(rsvp.action_id, details)
    return []


def cancel_rsvps_of_signatures(signature_ids: list[int]) -> int:
    """Signatures withdrawn elsewhere ("My actions"): their RSVPs are cancelled too."""
    if not signature_ids:
        return 0
    rsvps = list(
        db.session.scalars(
            select(Rsvp).where(
                Rsvp.signature_id.in_(signature_ids),
                Rsvp.status != RsvpStatus.CANCELLED.value,
            )
        )
    )
    for rsvp in rsvps:
        cancel_rsvp(rsvp)
    return len(rsvps)


def promote_waitlist(action_id: int, details: EventDetails | None = None) -> list[int]:
    """Fill free places from the waitlist, first come first served. Returns promoted ids."""
    details = details or details_for_update(action_id)
    if details.is_cancelled or details.has_started():
        return []
    promoted: list[int] = []
    while details.capacity is None or places_taken(action_id) < details.capacity:
        first = db.session.scalar(
            select(Rsvp)
            .where(Rsvp.action_id == action_id, Rsvp.status == RsvpStatus.WAITLISTED.value)
            .order_by(Rsvp.placed_at, Rsvp.id)
            .limit(1)
        )
        if first is None:
            break
        first.status = RsvpStatus.GOING.value
        db.session.flush()
        enqueue(PROMOTED_EMAIL, first.id)
        events.rsvp_promoted.send(
            "gatherings",
            rsvp_id=first.id,
            signature_id=first.signature_id,
            action_id=action_id,
        )
        promoted.append(first.id)
    return promoted


def check_in(rsvp: Rsvp, undo: bool = False) -> None:
    rsvp.checked_in_at = None if undo else (rsvp.checked_in_at or utcnow())
    db.session.flush()


def erase_answers(signature_ids: list[int]) -> None:
    """The person was erased: their RSVP rows (and answers) go with the signatures."""
    if signature_ids:
        db.session.execute(
            update(Rsvp)
            .where(Rsvp.signature_id.in_(signature_ids))
            .values(answers={}, sensitive_answers={})
            .execution_options(synchronize_session=False)
        )


def erase_host(email_normalised: str) -> int:
    """The person was erased: events they proposed keep going, without their name or email.

    Returns how many events lost their host. The host link stops working (nobody to hold it).
    """
    if not email_normalised:
        return 0
    return int(
        db.session.execute(
            update(EventDetails)
            .where(EventDetails.host_email == email_normalised)
            .values(host_name="", host_email="")
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        or 0
    )


FOLLOWUP_AUDIENCES = {  # translated where they are shown (the attendees page)
    "attended": N_("Everyone who was checked in"),
    "no_show": N_("Everyone with a place who was not checked in"),
    "going": N_("Everyone with a place"),
}


def create_followup(action: Action, audience: str, subject: str, body: str) -> tuple[FollowUp, int]:
    """A follow-up and one pending delivery row per recipient (sent by the jobs). Flushes."""
    if audience not in FOLLOWUP_AUDIENCES:
        raise EventError(_("Choose who the follow-up goes to."))
    subject = _one_line(_("Subject"), subject, 200)
    if not subject or not (body or "").strip():
        raise EventError(_("Enter a subject and a message."))
    if has_control_chars(body, allow_newlines=True) or has_invisible_chars(body):
        raise EventError(_("Message: remove the control or invisible characters."))
    followup = FollowUp(action_id=action.id, audience=audience, subject=subject, body=body)
    db.session.add(followup)
    db.session.flush()
    query = select(Rsvp.id).where(
        Rsvp.action_id == action.id, Rsvp.status == RsvpStatus.GOING.value
    )
    if audience == "attended":
        query = query.where(Rsvp.checked_in_at.is_not(None))
    elif audience == "no_show":
        query = query.where(Rsvp.checked_in_at.is_(None))
    ids = list(db.session.scalars(query))
    db.session.add_all(
        EventDelivery(
            rsvp_id=rsvp_id,
            message=f"followup:{followup.id}",
            status=DeliveryStatus.PENDING.value,
            attempts=0,
        )
        for rsvp_id in ids
    )
    db.session.flush()
    return followup, len(ids)


# --- supporter-hosted events ------------------------------------------------------------------


def set_hosting(
    campaign: Campaign,
    open_: bool,
    intro: str = "",
    translations: dict[str, dict[str, str]] | None = None,
) -> EventHosting:
    """Open (or close) a campaign to supporters proposing their own events. ``translations``:
    the introduction in other languages ({"cy": {"intro": …}}; empty: the default's)."""
    hosting = db.session.get(EventHosting, campaign.id)
    if hosting is None:
        hosting = EventHosting(campaign_id=campaign.id, intro="", translations={})
        db.session.add(hosting)
    written = [intro or ""] + [words.get("intro") or "" for words in (translations or {}).values()]
    for text in written:
        if has_control_chars(text, allow_newlines=True) or has_invisible_chars(text):
            raise EventError(_("Introduction: remove the control or invisible characters."))
    hosting.intro = (intro or "")[:5000]
    if translations is not None:
        hosting.translations = merged_translations(
            hosting.translations,
            {code: {"intro": (w.get("intro") or "")[:5000]} for code, w in translations.items()},
        )
    hosting.closed_at = None if open_ else (hosting.closed_at or utcnow())
    if open_:
        hosting.opened_at = utcnow()
    db.session.flush()
    return hosting


def propose_event(
    campaign: Campaign, data: EventInput, host_name: str, host_email: str, language: str = ""
) -> Action:
    """A supporter's proposed event: stored closed and ``unconfirmed``; the host is emailed a
    link to confirm it (:func:`confirm_host`), then it waits for an organiser's approval. Every
    email to the host is in ``language``, the one they proposed it in (empty: the default)."""
    hosting = db.session.get(EventHosting, campaign.id)
    if hosting is None or hosting.closed_at is not None:
        raise EventError(_("This campaign is not taking proposals for events."))
    host_name = _one_line(_("Your name"), host_name, 100)
    if not host_name:
        raise EventError(_("Enter your name."))
    action = create_event(campaign, data)
    details = db.session.get(EventDetails, action.id)
    assert details is not None
    details.review = ReviewState.UNCONFIRMED.value
    details.host_name = host_name
    details.host_email = host_email
    details.host_language = language or current_app.config["DEFAULT_LANGUAGE"]
    details.hosted = True
    action.closed_at = utcnow()  # not public, takes no RSVPs, until approved
    db.session.flush()
    enqueue(HOST_EMAIL, action.id)
    return action


def confirm_host(action: Action) -> bool:
    """The host pressed Confirm on their host page (the link emailed to the address they gave):
    the proposal now waits for an organiser, and the host is told it was received. Once only."""
    details = details_for_update(action.id)
    if details.review != ReviewState.UNCONFIRMED.value or not details.host_email:
        return False
    details.review = ReviewState.PENDING.value
    db.session.flush()
    enqueue(HOST_EMAIL, action.id)
    return True


def review_event(action: Action, approve: bool, note: str = "") -> None:
    """The organiser's decision on a proposal; the host is told either way."""
    details = details_for_update(action.id)
    if details.review == ReviewState.UNCONFIRMED.value:
        raise EventError(_("The host has not confirmed their email address yet."))
    if details.review != ReviewState.PENDING.value:
        raise EventError(_("This proposal was already decided."))
    details.review_note = _one_line(_("Note"), note, 500)
    if approve:
        details.review = ReviewState.APPROVED.value
        action.closed_at = None
    else:
        details.review = ReviewState.REJECTED.value
    db.session.flush()
    enqueue(HOST_EMAIL, action.id)
