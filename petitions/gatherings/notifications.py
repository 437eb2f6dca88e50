"""Event emails, built by the worker when it sends: place confirmations with the calendar
invite, promotions from the waitlist, changes, cancellations, reminders and follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from petitions.campaigns.models import Action
from petitions.core.i18n import N_, current_language, in_language, language_prefix, localised
from petitions.extensions import db
from petitions.gatherings import ics
from petitions.gatherings.links import manage_url
from petitions.gatherings.models import EventDetails, Rsvp, RsvpStatus
from petitions.gatherings.services import (
    EVENT_CANCELLED_EMAIL,
    EVENT_CHANGED_EMAIL,
    HOST_EMAIL,
    PLACED_EMAIL,
    PROMOTED_EMAIL,
    RSVP_CANCELLED_EMAIL,
)
from petitions.mailer.registry import BuiltEmail, email_builder

HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


@dataclass
class EventContext:
    rsvp: Rsvp
    action: Action
    details: EventDetails

    @property
    def event_url(self) -> str:
        return public_event_url(self.action)


def public_event_url(action: Action, base: str | None = None) -> str:
    # Built by hand: workers have no request to build URLs from. ``base``: the site in a
    # language (``PUBLIC_URL`` + ``/cy``), the default language's if not given.
    base = current_app.config["PUBLIC_URL"] if base is None else base
    return f"{base}/e/{action.campaign.slug}/{action.slug}"


def load(rsvp_id: int) -> EventContext | None:
    rsvp = db.session.scalar(
        select(Rsvp)
        .where(Rsvp.id == rsvp_id)
        .options(joinedload(Rsvp.signature), joinedload(Rsvp.action).joinedload(Action.campaign))
    )
    if rsvp is None:
        return None
    details = db.session.get(EventDetails, rsvp.action_id)
    if details is None:
        return None
    return EventContext(rsvp, rsvp.action, details)


def calendar_for(ctx: EventContext, method: str = "REQUEST") -> bytes:
    signature = ctx.rsvp.signature
    return ics.build_calendar(
        ctx.details,
        title=localised(ctx.action, "title"),
        description=localised(ctx.action, "text"),
        url=ctx.event_url,
        method=method,
        attendee=(signature.name, signature.email),
        include_online_link=ctx.rsvp.holds_place,
    )


def event_message(
    ctx: EventContext,
    *,
    notice: str,
    subject: str,
    calendar_method: str | None = None,
    extra: dict[str, Any] | None = None,
    own_subject: bool = False,
) -> BuiltEmail:
    """One event email: text and HTML from ``email/event_notice``, and the invite if asked.

    Written in the language the person RSVPed in (their signature's). ``subject`` is a marked
    message with ``%(title)s`` (``N_``), translated here; ``own_subject``: the organiser's own
    words (a follow-up), used as written."""
    signature = ctx.rsvp.signature
    with in_language(signature.language):
        base = current_app.config["PUBLIC_URL"] + language_prefix()
        title = localised(ctx.action, "title")
        event_url = public_event_url(ctx.action, base)
        context = {
            "notice": notice,
            "rsvp": ctx.rsvp,
            "signature": signature,
            "action": ctx.action,
            "campaign": ctx.action.campaign,
            "details": ctx.details,
            "event_url": event_url,
            "manage_url": manage_url(ctx.rsvp.id, base),
            "show_online": ctx.rsvp.holds_place and not ctx.details.is_cancelled,
            "google_link": ics.google_link(ctx.details, title, event_url),
            "outlook_link": ics.outlook_link(ctx.details, title, event_url),
            **(extra or {}),
        }
        message = Message(
            subject=subject if own_subject else _(subject, title=title),
            recipients=[(signature.name, signature.email)],
            body=render_template("email/event_notice.txt", **context),
            html=render_template("email/event_notice.html", **context),
            extra_headers={**HEADERS, "Content-Language": current_language()},
        )
        if calendar_method is not None:
            message.attach(
                "invite.ics",
                f"text/calendar; method={calendar_method}; charset=UTF-8",
                calendar_for(ctx, calendar_method),
            )
    return BuiltEmail(message=message, recipient=signature.email_normalised)


def _active(ctx: EventContext | None) -> EventContext | None:
    """Nothing to send once the signature is gone or invalid."""
    if ctx is None or not ctx.rsvp.signature.is_valid:
        return None
    return ctx


@email_builder(PLACED_EMAIL)
def build_placed(rsvp_id: int) -> BuiltEmail | None:
    ctx = _active(load(rsvp_id))
    if ctx is None or ctx.details.is_cancelled:
        return None
    status = ctx.rsvp.status
    if status == RsvpStatus.GOING.value:
        return event_message(
            ctx,
            notice="going",
            subject=N_("You're going: %(title)s"),
            calendar_method="REQUEST",
        )
    if status == RsvpStatus.WAITLISTED.value:
        return event_message(ctx, notice="waitlisted", subject=N_("On the waitlist: %(title)s"))
    if status == RsvpStatus.FULL.value:
        return event_message(ctx, notice="full", subject=N_("Fully booked: %(title)s"))
    return None


@email_builder(PROMOTED_EMAIL)
def build_promoted(rsvp_id: int) -> BuiltEmail | None:
    ctx = _active(load(rsvp_id))
    if ctx is None or ctx.details.is_cancelled or ctx.rsvp.status != RsvpStatus.GOING.value:
        return None
    return event_message(
        ctx,
        notice="promoted",
        subject=N_("A place came free - you're going: %(title)s"),
        calendar_method="REQUEST",
    )


@email_builder(RSVP_CANCELLED_EMAIL)
def build_rsvp_cancelled(rsvp_id: int) -> BuiltEmail | None:
    ctx = load(rsvp_id)
    if ctx is None or ctx.rsvp.status != RsvpStatus.CANCELLED.value:
        return None
    return event_message(
        ctx,
        notice="rsvp_cancelled",
        subject=N_("RSVP cancelled: %(title)s"),
        calendar_method="CANCEL",
    )


@email_builder(EVENT_CHANGED_EMAIL)
def build_changed(rsvp_id: int) -> BuiltEmail | None:
    ctx = _active(load(rsvp_id))
    if ctx is None or ctx.details.is_cancelled:
        return None
    if ctx.rsvp.status not in (RsvpStatus.GOING.value, RsvpStatus.WAITLISTED.value):
        return None
    method = "REQUEST" if ctx.rsvp.holds_place else None
    return event_message(
        ctx, notice="changed", subject=N_("Changed: %(title)s"), calendar_method=method
    )


@email_builder(EVENT_CANCELLED_EMAIL)
def build_event_cancelled(rsvp_id: int) -> BuiltEmail | None:
    ctx = load(rsvp_id)
    if ctx is None or not ctx.details.is_cancelled:
        return None
    if ctx.rsvp.status not in (RsvpStatus.GOING.value, RsvpStatus.WAITLISTED.value):
        return None
    method = "CANCEL" if ctx.rsvp.holds_place else None
    return event_message(
        ctx,
        notice="event_cancelled",
        subject=N_("Cancelled: %(title)s"),
        calendar_method=method,
    )


@email_builder(HOST_EMAIL)
def build_host_notice(action_id: int) -> BuiltEmail | None:
    from petitions.gatherings.links import host_token

    action = db.session.scalar(
        select(Action).where(Action.id == action_id).options(joinedload(Action.campaign))
    )
    details = db.session.get(EventDetails, action_id)
    if action is None or details is None or not details.host_email:
        return None
    with in_language(details.host_language):
        # In the language they proposed it in; the links open the pages in it too.
        base = current_app.config["PUBLIC_URL"] + language_prefix()
        title = localised(action, "title")
        context = {
            "action": action,
            "details": details,
            "campaign": action.campaign,
            "host_url": f"{base}/host/{host_token(action.id)}",
            "event_url": public_event_url(action, base),
        }
        subject = {
            "unconfirmed": _("Confirm your event: %(title)s", title=title),
            "pending": _("We've received your event: %(title)s", title=title),
            "approved": _("Your event is approved: %(title)s", title=title),
            "rejected": _("Your event was not approved: %(title)s", title=title),
        }.get(details.review) or _("Confirm your event: %(title)s", title=title)
        message = Message(
            subject=subject,
            recipients=[(details.host_name, details.host_email)],
            body=render_template("email/event_host.txt", **context),
            html=render_template("email/event_host.html", **context),
            extra_headers={**HEADERS, "Content-Language": current_language()},
        )
    return BuiltEmail(message=message, recipient=details.host_email)
