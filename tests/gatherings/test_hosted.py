"""Supporter-hosted events: propose, wait for approval (not public meanwhile), approve or
reject with a note (the host is told), then the public list; the host's own page."""

from __future__ import annotations

import re

from sqlalchemy import select

from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.models import EventDetails
from tests.gatherings.conftest import drain, rsvp_and_confirm
from tests.support.factories import make_campaign
from tests.support.web import csrf_from
from tests.support.workspace import csrf, login, make_organiser

PROPOSAL = {
    "host_name": "Hana Host",
    "host_email": "hana@example.org",
    "title": "Leeds stall on the high street",
    "description": "Leaflets and a petition table.",
    "starts": "2031-04-05T11:00",
    "ends": "2031-04-05T14:00",
    "timezone": "Europe/London",
    "venue": "Briggate",
    "postcode": "LS1 6HB",
    "capacity": "5",
    "waitlist": "y",
}


def test_propose_approve_list_and_host_page(app, client, smtp_sink):
    with app.app_context():
        campaign = make_campaign(slug="week")
        make_organiser("org@example.org", admin=True)
        campaign_id = campaign.id
        db.session.commit()
    assert client.get("/c/week/host-an-event").status_code == 404  # not open yet
    login(client, "org@example.org")
    hosting = f"/organise/campaigns/{campaign_id}/hosting"
    opened = client.post(
        hosting, data={"csrf_token": csrf(client, hosting), "open": "1", "intro": "Go local!"}
    )
    assert opened.status_code == 303
    assert b"Host your own event" in client.get("/c/week").data

    url = "/c/week/host-an-event"
    bad = client.post(url, data={"csrf_token": csrf(client, url), **PROPOSAL, "capacity": "-1"})
    assert bad.status_code == 400
    sent = client.post(url, data={"csrf_token": csrf(client, url), **PROPOSAL})
    assert sent.status_code == 303
    drain(app)
    received = smtp_sink.wait_for(1, address="hana@example.org")[-1]
    assert received.subject.startswith("We've received")
    host_url = re.search(r"/host/[A-Za-z0-9_.-]+", received.text()).group(0)

    with app.app_context():
        action = db.session.scalar(select(Action).where(Action.kind == "event"))
        action_id, slug = action.id, action.slug
    # Pending: not public anywhere.
    assert client.get(f"/e/week/{slug}").status_code == 404
    assert b"Leeds stall" not in client.get("/events").data
    assert b"Leeds stall" not in client.get("/c/week").data
    assert b"Waiting for an organiser" in client.get(host_url).data

    page = client.get(hosting)
    assert b"Leeds stall" in page.data and b"hana@example.org" in page.data
    approved = client.post(
        f"/organise/events/{action_id}/review",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "decision": "approve",
            "note": "Lovely",
        },
    )
    assert approved.status_code == 303
    drain(app)
    told = smtp_sink.wait_for(2, address="hana@example.org")[-1]
    assert told.subject.startswith("Your event is approved") and "Lovely" in told.text()
    assert client.get(f"/e/week/{slug}").status_code == 200
    assert b"Leeds stall" in client.get("/events?area=LS").data
    assert b"Leeds stall" not in client.get("/events?area=SW").data

    rsvp_and_confirm(app, client, smtp_sink, f"/e/week/{slug}", "sam@example.org")
    host = client.get(host_url)
    assert b"Sam" in host.data and b"sam@example.org" not in host.data
    message = client.post(
        host_url,
        data={
            "csrf_token": csrf_from(host.get_data(as_text=True)),
            "subject": "Meet by the clock",
            "body": "See you there.",
        },
    )
    assert message.status_code == 303
    from petitions.gatherings import jobs

    with app.app_context():
        assert jobs.send_pending().sent == 1
    mail = smtp_sink.wait_for(1, address="sam@example.org", timeout=5)
    assert any(m.subject == "Meet by the clock" for m in smtp_sink.to("sam@example.org"))
    assert "hana@example.org" not in mail[-1].text()
    assert client.get("/host/forged-token").status_code == 404


def test_rejected_stays_private_and_cannot_be_decided_twice(factories):
    from petitions.gatherings.services import EventError, review_event
    from tests.gatherings.conftest import event_input

    campaign = make_campaign()
    services.set_hosting(campaign, True)
    action = services.propose_event(campaign, event_input(), "Hana", "hana@example.org")
    review_event(action, False, "Too far away")
    db.session.commit()
    details = db.session.get(EventDetails, action.id)
    assert details.review == "rejected" and action.closed_at is not None
    try:
        review_event(action, True)
    except EventError:
        pass
    else:
        raise AssertionError("decided twice")
