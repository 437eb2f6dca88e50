"""iCalendar invitations and add-to-calendar links for events (RFC 5545, RFC 5546).

Every invite of one event carries the same UID; SEQUENCE rises with each change attendees are
told of, so calendars update the entry they already have instead of adding another.
METHOD:REQUEST invites or updates; METHOD:CANCEL removes the entry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from icalendar import Calendar, Event, vCalAddress, vText

from petitions.gatherings.models import EventDetails

PRODID = "-//petitions//events//EN"


def _strip(text: str, limit: int = 2000) -> str:
    return " ".join((text or "").split())[:limit]


def build_calendar(
    details: EventDetails,
    *,
    title: str,
    description: str,
    url: str,
    method: str = "REQUEST",
    attendee: tuple[str, str] | None = None,
    organiser_email: str = "noreply@petitions.invalid",
    include_online_link: bool = False,
    stamp: datetime | None = None,
) -> bytes:
    """The .ics for one event. ``attendee`` is (name, email) for a personal invitation."""
    calendar = _calendar(method)
    calendar.add_component(
        _event(
            details,
            title=title,
            description=description,
            url=url,
            cancelled=method == "CANCEL",
            attendee=attendee,
            organiser_email=organiser_email,
            include_online_link=include_online_link,
            stamp=stamp,
        )
    )
    return calendar.to_ical()


def build_feed(
    items: list[tuple[EventDetails, str, str, str]], *, name: str, stamp: datetime | None = None
) -> bytes:
    """A subscribable calendar (METHOD:PUBLISH) of several events: (details, title,
    description, url) each. Public: never an online link or an attendee."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", _strip(name, 200))
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    for details, title, description, url in items:
        calendar.add_component(
            _event(
                details,
                title=title,
                description=description,
                url=url,
                cancelled=details.is_cancelled,
                stamp=stamp,
            )
        )
    return calendar.to_ical()


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _event(
    details: EventDetails,
    *,
    title: str,
    description: str,
    url: str,
    cancelled: bool,
    attendee: tuple[str, str] | None = None,
    organiser_email: str = "noreply@petitions.invalid",
    include_online_link: bool = False,
    stamp: datetime | None = None,
) -> Event:
    event = Event()
    event.add("uid", details.uid)
    event.add("sequence", details.sequence)
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    # Times in UTC: every client shows them in its own zone without a VTIMEZONE block.
    event.add("dtstart", details.starts_utc)
    event.add("dtend", details.ends_utc)
    event.add("summary", _strip(title, 200))
    notes = _strip(description)
    if include_online_link and details.online_url:
        notes = f"Join online: {details.online_url}\n\n{notes}".strip()
    event.add("description", notes + f"\n\n{url}")
    location = details.place_line
    if include_online_link and details.online_url and not details.is_in_person:
        location = details.online_url
    if location:
        event.add("location", location)
    event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organiser_email}")
    organizer.params["cn"] = vText("Petitions")
    event.add("organizer", organizer)
    if attendee is not None:
        name, email = attendee
        address = vCalAddress(f"mailto:{email}")
        address.params["cn"] = vText(_strip(name, 100))
        address.params["role"] = vText("REQ-PARTICIPANT")
        address.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", address)
    return event


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(details: EventDetails, title: str, url: str) -> str:
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": f"{_stamp(details.starts_utc)}/{_stamp(details.ends_utc)}",
            "details": url,
            "location": details.place_line,
            "ctz": details.timezone,
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def outlook_link(details: EventDetails, title: str, url: str) -> str:
    query = urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": title,
            "startdt": details.starts_utc.isoformat(),
            "enddt": details.ends_utc.isoformat(),
            "body": url,
            "location": details.place_line,
        }
    )
    return f"https://outlook.live.com/calendar/0/deeplink/compose?{query}"
