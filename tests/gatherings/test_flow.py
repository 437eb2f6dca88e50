"""The whole RSVP path through the web app and a real SMTP sink: RSVP, confirm, the invite
(validated with the icalendar library), the waitlist, cancel and promote, edit and cancel."""

from __future__ import annotations

import re

from icalendar import Calendar
from sqlalchemy import select

from petitions.extensions import db
from petitions.gatherings.models import EventDetails, Rsvp
from tests.gatherings.conftest import (
    MANAGE_LINK,
    calendar_part,
    confirm,
    drain,
    rsvp,
    rsvp_and_confirm,
)
from tests.support.web import csrf_from
from tests.support.workspace import csrf, login, make_organiser


def _event_of(cal: bytes):  # type: ignore[no-untyped-def]
    calendar = Calendar.from_ical(cal)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_rsvp_confirm_gets_a_place_and_a_valid_invite(app, client, smtp_sink, event):
    page = client.get(event["url"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "0 going" in html and "secret-room" not in html  # the link is for attendees only
    assert "BST" in html or "GMT" in html
    response = rsvp(client, event["url"], "ann@example.org")
    assert response.status_code == 303 and response.location.endswith("/thanks")
    confirmed = confirm(app, client, smtp_sink, "ann@example.org")
    assert b"calendar invitation" in confirmed.data
    mails = smtp_sink.wait_for(2, address="ann@example.org")
    going = mails[-1]
    assert going.subject.startswith("You're going")
    assert "secret-room" in going.text()
    content_type, payload = calendar_part(going)
    assert "REQUEST" in content_type
    calendar, vevent = _event_of(payload)
    assert str(calendar["METHOD"]) == "REQUEST"
    with app.app_context():
        details = db.session.get(EventDetails, event["id"])
        assert str(vevent["UID"]) == details.uid
        assert vevent.decoded("DTSTART") == details.starts_utc
        assert "ann@example.org" in str(vevent["ATTENDEE"])
    assert int(vevent["SEQUENCE"]) == 0
    assert "going" in client.get(event["url"]).get_data(as_text=True)
    assert "1 going" in client.get(event["url"]).get_data(as_text=True)
    assert "1 going" in client.get("/c/gather").get_data(as_text=True)
    public_ics = client.get(event["url"] + "/event.ics")
    assert public_ics.status_code == 200 and b"secret-room" not in public_ics.data
    Calendar.from_ical(public_ics.data)


def test_full_event_waitlists_and_cancelling_promotes(app, client, smtp_sink, event):
    for name in ("ann", "bob", "cat"):
        rsvp_and_confirm(app, client, smtp_sink, event["url"], f"{name}@example.org")
    assert smtp_sink.wait_for(2, address="cat@example.org")[-1].subject.startswith(
        "On the waitlist"
    )
    waitlisted = smtp_sink.to("cat@example.org")[-1]
    assert "secret-room" not in waitlisted.text() and calendar_part(waitlisted) is None
    page = client.get(event["url"]).get_data(as_text=True)
    assert "2 going" in page and "Join the waitlist" in page

    token = re.search(MANAGE_LINK, smtp_sink.to("ann@example.org")[-1].text()).group(1)
    manage = client.get(f"/rsvp/{token}")
    assert manage.status_code == 200 and b"You have a place" in manage.data
    cancelled = client.post(
        f"/rsvp/{token}", data={"csrf_token": csrf_from(manage.get_data(as_text=True))}
    )
    assert cancelled.status_code == 303
    drain(app)
    promoted = smtp_sink.wait_for(3, address="cat@example.org")[-1]
    assert "place came free" in promoted.subject and "secret-room" in promoted.text()
    assert "REQUEST" in calendar_part(promoted)[0]
    ann_cancel = smtp_sink.wait_for(3, address="ann@example.org")[-1]
    content_type, payload = calendar_part(ann_cancel)
    assert "CANCEL" in content_type
    assert str(Calendar.from_ical(payload)["METHOD"]) == "CANCEL"
    with app.app_context():
        statuses = dict(db.session.execute(select(Rsvp.id, Rsvp.status).order_by(Rsvp.id)).all())
    assert list(statuses.values()) == ["cancelled", "going", "going"]
    assert client.get("/rsvp/not-a-real-token").status_code == 404


def test_organiser_creates_edits_and_cancels_with_sequence(app, client, smtp_sink, event):
    with app.app_context():
        from petitions.campaigns.models import Campaign

        make_organiser("org@example.org", admin=True)
        campaign_id = db.session.scalar(select(Campaign.id))
    login(client, "org@example.org")
    url = f"/organise/campaigns/{campaign_id}/events/new"
    base = {
        "title": "Talk",
        "starts": "2031-05-01T18:00",
        "ends": "2031-05-01T19:00",
        "timezone": "Europe/London",
        "online_url": "https://meet.example.org/talk",
        "capacity": "10",
        "waitlist": "y",
    }
    for bad, message in [
        ({"ends": "2031-05-01T17:00"}, b"end after"),
        ({"starts": "2020-05-01T18:00", "ends": "2020-05-01T19:00"}, b"future"),
        ({"capacity": "0"}, b"Capacity"),
        ({"timezone": "Nowhere/Special"}, b"Unknown time zone"),
        ({"online_url": "javascript:alert(1)"}, b"http"),
        ({"title": "a\r\nb"}, b"one line"),
        ({"starts": "not a date"}, b"starts-error"),
    ]:
        response = client.post(url, data={"csrf_token": csrf(client, url), **base, **bad})
        assert response.status_code == 400, bad
        assert message in response.data, (bad, response.data[:2000])
    created = client.post(url, data={"csrf_token": csrf(client, url), **base})
    assert created.status_code == 303

    rsvp_and_confirm(app, client, smtp_sink, event["url"], "ann@example.org")
    edit = f"/organise/events/{event['id']}/edit"
    form = client.get(edit)
    assert form.status_code == 200
    data = {
        "csrf_token": csrf_from(form.get_data(as_text=True)),
        "title": "Day of action",
        "description": "Bring a placard.",
        "starts": "2031-06-01T11:00",
        "ends": "2031-06-01T13:00",
        "timezone": "Europe/London",
        "venue": "Town hall steps",
        "online_url": "https://meet.example.org/secret-room",
        "capacity": "2",
        "waitlist": "y",
    }
    assert client.post(edit, data=data).status_code == 303
    drain(app)
    changed = smtp_sink.wait_for(3, address="ann@example.org")[-1]
    assert changed.subject.startswith("Changed")
    _, vevent = _event_of(calendar_part(changed)[1])
    assert int(vevent["SEQUENCE"]) == 1

    attendees = client.get(f"/organise/events/{event['id']}/attendees")
    assert attendees.status_code == 200 and b"ann@example.org" in attendees.data
    page = attendees.get_data(as_text=True)
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<form" not in title and "Attendees" in title  # the title is text, not a section
    assert page.count('id="messages-heading"') == 1  # ids are unique on the page
    csv_body = client.get(f"/organise/events/{event['id']}/attendees?format=csv")
    assert b"ann@example.org" in csv_body.data and csv_body.mimetype == "text/csv"

    cancel = client.post(
        f"/organise/events/{event['id']}/cancel",
        data={"csrf_token": csrf_from(attendees.get_data(as_text=True))},
    )
    assert cancel.status_code == 303
    drain(app)
    gone = smtp_sink.wait_for(4, address="ann@example.org")[-1]
    assert gone.subject.startswith("Cancelled")
    content_type, payload = calendar_part(gone)
    _, vevent = _event_of(payload)
    assert "CANCEL" in content_type and int(vevent["SEQUENCE"]) == 2
    token = csrf_from(attendees.get_data(as_text=True))
    late = client.post(event["url"], data={"csrf_token": token, "email": "late@example.org"})
    assert late.status_code == 409


def test_check_in_on_a_phone(app, client, smtp_sink, event):
    rsvp_and_confirm(app, client, smtp_sink, event["url"], "ann@example.org")
    with app.app_context():
        make_organiser("org@example.org", admin=True)
        rsvp_id = db.session.scalar(select(Rsvp.id))
    login(client, "org@example.org")
    sheet = client.get(f"/organise/events/{event['id']}/attendees?view=sheet")
    assert sheet.status_code == 200 and b"Check in" in sheet.data
    done = client.post(
        f"/organise/events/{event['id']}/attendees/{rsvp_id}/check-in?view=sheet",
        data={"csrf_token": csrf_from(sheet.get_data(as_text=True))},
    )
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Rsvp, rsvp_id).checked_in_at is not None
    assert b"1 checked in" in client.get(f"/organise/events/{event['id']}/attendees").data


def test_signing_url_of_an_event_goes_to_the_event_page(client, event):
    response = client.get(event["url"].replace("/e/", "/c/"))
    assert response.status_code == 302 and response.location.endswith(event["url"])


def test_public_list_filters_by_date_and_area(client, event):
    assert b"Day of action" in client.get("/events").data
    assert b"Day of action" not in client.get("/events?from=2099-01-01").data
    assert b"Day of action" not in client.get("/events?area=M").data
    assert client.get("/events?from=garbage&to=2026-13-45&area=%0d").status_code == 200
    assert client.get("/events?area=%00").status_code == 400


def test_rsvp_again_after_cancelling(app, client, smtp_sink, event):
    """Cancelling and then RSVPing again works: a new confirmation, then a place again."""
    rsvp_and_confirm(app, client, smtp_sink, event["url"], "ann@example.org")
    token = re.search(MANAGE_LINK, smtp_sink.to("ann@example.org")[-1].text()).group(1)
    manage = client.get(f"/rsvp/{token}")
    cancelled = client.post(
        f"/rsvp/{token}", data={"csrf_token": csrf_from(manage.get_data(as_text=True))}
    )
    assert cancelled.status_code == 303
    drain(app)
    assert "0 going" in client.get(event["url"]).get_data(as_text=True)
    before = len(smtp_sink.wait_for(3, address="ann@example.org"))

    again = rsvp(client, event["url"], "ann@example.org", **{"name": "Ann Again"})
    assert again.status_code == 303, again.status_code
    drain(app)
    mails = smtp_sink.wait_for(before + 1, address="ann@example.org")
    assert "/confirm/" in mails[-1].text(), "a new confirmation: the mailbox is proved again"
    confirm(app, client, smtp_sink, "ann@example.org")
    going = smtp_sink.wait_for(before + 2, address="ann@example.org")[-1]
    assert going.subject.startswith("You're going") and calendar_part(going) is not None
    with app.app_context():
        rows = db.session.scalars(select(Rsvp)).all()
        assert [r.status for r in rows] == ["going"] and rows[0].cancelled_at is None
    from petitions.counting.jobs import fold_counts

    with app.app_context():
        fold_counts()
        db.session.remove()
    assert "1 going" in client.get(event["url"]).get_data(as_text=True)
    # RSVPing once more while holding a place changes nothing and sends nothing new.
    assert rsvp(client, event["url"], "ann@example.org").status_code == 303
    drain(app)
    with app.app_context():
        assert [r.status for r in db.session.scalars(select(Rsvp))] == ["going"]


def test_calendar_feed_of_upcoming_events(app, client, event):
    """/events.ics: a feed to subscribe to (METHOD:PUBLISH), valid for the icalendar library,
    one VEVENT per upcoming event with its stable UID, never the online link; per campaign."""
    from petitions.gatherings import services
    from tests.gatherings.conftest import event_input
    from tests.support.factories import make_campaign

    with app.app_context():
        other = services.create_event(make_campaign(slug="other"), event_input(title="Elsewhere"))
        db.session.commit()
        uid = db.session.get(EventDetails, event["id"]).uid
        other_uid = db.session.get(EventDetails, other.id).uid
    feed = client.get("/events.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.data)
    assert str(calendar["METHOD"]) == "PUBLISH" and "X-WR-CALNAME" in calendar
    uids = {str(v["UID"]) for v in calendar.walk("VEVENT")}
    assert uids == {uid, other_uid}
    assert b"secret-room" not in feed.data and b"@example.org" not in feed.data
    mine = Calendar.from_ical(client.get("/events.ics?campaign=gather").data)
    assert [str(v["UID"]) for v in mine.walk("VEVENT")] == [uid]
    assert str(mine["X-WR-CALNAME"]).endswith(": events")
    assert client.get("/events.ics?campaign=nope").status_code == 404
    assert b"/events.ics" in client.get("/events").data
