"""Supporter-hosted events: propose, wait for approval (not public meanwhile), approve or
reject with a note (the host is told), then the public list; the host's own page."""

from __future__ import annotations

import re

import pytest
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
    to_confirm = smtp_sink.wait_for(1, address="hana@example.org")[-1]
    assert to_confirm.subject.startswith("Confirm your event")
    host_url = re.search(r"/host/[A-Za-z0-9_.-]+", to_confirm.text()).group(0)

    with app.app_context():
        action = db.session.scalar(select(Action).where(Action.kind == "event"))
        action_id, slug = action.id, action.slug
    # Unconfirmed: the organiser sees it but cannot decide it yet.
    waiting = client.get(hosting)
    assert b"Waiting for the host to confirm" in waiting.data
    early = client.post(
        f"/organise/events/{action_id}/review",
        data={"csrf_token": csrf_from(waiting.get_data(as_text=True)), "decision": "approve"},
    )
    assert early.status_code == 409
    # The host confirms from their page (a POST: a scanner following the link changes nothing).
    host_page = client.get(host_url)
    assert b"Confirm my event" in host_page.data
    confirmed = client.post(
        f"{host_url}/confirm", data={"csrf_token": csrf_from(host_page.get_data(as_text=True))}
    )
    assert confirmed.status_code == 303
    drain(app)
    received = smtp_sink.wait_for(2, address="hana@example.org")[-1]
    assert received.subject.startswith("We've received")
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
    told = smtp_sink.wait_for(3, address="hana@example.org")[-1]
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
    with pytest.raises(EventError, match="not confirmed"):
        review_event(action, True)
    assert services.confirm_host(action) and not services.confirm_host(action)
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


def test_erasing_the_host_blanks_their_name_and_email_on_their_events(app, client, smtp_sink):
    """'Erase me' reaches supporter-hosted events: the event stays (the organiser still sees
    and decides it), the host's name and email go, and the host link stops working."""
    import time

    from petitions.gatherings.links import host_token
    from petitions.supporters.services import supporter_for
    from tests.gatherings.conftest import event_input

    with app.app_context():
        campaign = make_campaign(slug="week")
        make_organiser("org@example.org", admin=True)
        services.set_hosting(campaign, True)
        mine = services.propose_event(
            campaign, event_input(title="Mine"), "Hana", "hana@example.org"
        )
        other = services.propose_event(
            campaign, event_input(title="Other"), "Olu", "olu@example.org"
        )
        services.confirm_host(mine)
        services.review_event(mine, True)
        ids, campaign_id = (mine.id, other.id), campaign.id
        host_link = f"/host/{host_token(mine.id)}"
        supporter_id = supporter_for("hana@example.org").id
        db.session.commit()
    assert client.get(host_link).status_code == 200
    with client.session_transaction() as sess:
        sess["supporter_id"] = supporter_id
        sess["supporter_until"] = int(time.time()) + 600
        sess["supporter_version"] = 1
    page = client.get("/my/erase")
    erased = client.post(
        "/my/erase", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "confirm": "y"}
    )
    assert erased.status_code == 200

    with app.app_context():
        first, second = (db.session.get(EventDetails, i) for i in ids)
        assert (first.host_name, first.host_email) == ("", "")
        assert first.hosted and first.host_erased and first.review == "approved"
        assert (second.host_name, second.host_email) == ("Olu", "olu@example.org")
        assert not db.session.scalar(
            select(EventDetails.action_id).where(EventDetails.host_name == "Hana")
        )
    assert client.get(host_link).status_code == 404
    assert client.get("/e/week/mine").status_code == 200, "the event itself stays public"
    login(client, "org@example.org")
    listing = client.get(f"/organise/campaigns/{campaign_id}/hosting").get_data(as_text=True)
    assert "hana@example.org" not in listing and "Hana" not in listing
    assert "erased at their request" in listing and "Mine" in listing
    drain(app)  # the pending "we've received" notice to Hana is dropped, not sent or crashed
    assert not smtp_sink.to("hana@example.org")


def test_public_list_by_postcode_is_nearest_first(app, client):
    """Same postcode, then same constituency (the geo data the letters use), same district,
    same area, then the rest; soonest first within each. Odd input gets a message, never a 500."""
    from datetime import datetime, timedelta

    from petitions.core.time import utcnow
    from petitions.geo.demo import load_demo_geo
    from tests.gatherings.conftest import make_event

    day = (utcnow() + timedelta(days=10)).replace(tzinfo=None)
    with app.app_context():
        load_demo_geo()
        campaign = make_campaign(slug="week")
        # Created soonest-last, so only the nearness can put them in this order.
        for n, (title, postcode) in enumerate(
            [
                ("Far away", "WS9 8AA"),
                ("Same area", "GU12 4AA"),
                ("Same district", "GU11 9ZZ"),
                ("Same constituency", "GU11 1AB"),
                ("Right here", "gu11 1aa"),
                ("Online only", ""),
            ]
        ):
            start = datetime(day.year, day.month, day.day, 9) + timedelta(days=n)
            make_event(
                campaign,
                title=title,
                postcode=postcode,
                venue="Hall" if postcode else "",
                starts_local=start,
                ends_local=start + timedelta(hours=1),
            )
    campaign_page = client.get("/c/week").get_data(as_text=True)
    assert 'href="/events?campaign=week"' in campaign_page, "reachable from the campaign page"
    assert ">Far away</a>" in client.get("/events?campaign=week").get_data(as_text=True)
    assert client.get("/events?campaign=no-such-campaign").status_code == 404
    html = client.get("/events?postcode=gu11+1aa").get_data(as_text=True)
    order = [
        "Right here",
        "Same constituency",
        "Same district",
        "Same area",
        "Far away",
        "Online only",
    ]
    positions = [html.index(f">{title}</a>") for title in order]
    assert positions == sorted(positions), positions
    assert "Nearest to GU11 1AA first" in html and "In your constituency" in html
    partial = client.get("/events?postcode=GU11").get_data(as_text=True)
    assert partial.index(">Same district</a>") < partial.index(">Same area</a>")
    assert partial.index(">Same area</a>") < partial.index(">Far away</a>")
    soonest = client.get("/events").get_data(as_text=True)
    assert soonest.index(">Far away</a>") < soonest.index(">Right here</a>")
    for odd in ("%27%3B--", "x" * 5000, "12345", "SW1A%C2%A01AA", "%F0%9F%98%80"):
        response = client.get(f"/events?postcode={odd}")
        assert response.status_code in (200, 400), (odd, response.status_code)
    assert "look like a UK postcode" in client.get("/events?postcode=12345").get_data(as_text=True)


def test_a_host_who_signed_nothing_can_sign_in_download_and_erase(app, client, smtp_sink):
    """A supporter known only as a host still reaches "My actions" (the sign-in link goes to
    the address they gave), sees their event, gets it in "download my data", and can erase."""
    import json

    from tests.gatherings.conftest import event_input

    with app.app_context():
        campaign = make_campaign(slug="week")
        services.set_hosting(campaign, True)
        action = services.propose_event(
            campaign, event_input(title="Leeds stall"), "Hana Host", "hana@example.org"
        )
        action_id = action.id
        db.session.commit()
    drain(app)  # the "we've received your event" email
    page = client.get("/my")
    asked = client.post(
        "/my/signin",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": "HANA@example.org"},
    )
    assert asked.status_code == 200
    drain(app)
    link = next(
        m for m in smtp_sink.wait_for(2, address="hana@example.org") if "/my/signin/" in m.text()
    )
    token = re.search(r"/my/signin/([A-Za-z0-9_-]+)", link.text()).group(1)
    landing = client.get(f"/my/signin/{token}")
    pressed = client.post(
        f"/my/signin/{token}", data={"csrf_token": csrf_from(landing.get_data(as_text=True))}
    )
    assert pressed.status_code == 303
    home = client.get("/my").get_data(as_text=True)
    assert "Events you proposed" in home and "Leeds stall" in home and "/host/" in home
    data = json.loads(client.get("/my/data.json").get_data(as_text=True))
    (hosted,) = data["hosted_events"]
    assert hosted["host_email"] == "hana@example.org" and hosted["title"] == "Leeds stall"

    erase = client.get("/my/erase")
    done = client.post(
        "/my/erase", data={"csrf_token": csrf_from(erase.get_data(as_text=True)), "confirm": "y"}
    )
    assert done.status_code == 200
    with app.app_context():
        details = db.session.get(EventDetails, action_id)
        assert (details.host_name, details.host_email, details.hosted) == ("", "", True)
    # Nothing is held any more: asking again sends nothing.
    before = len(smtp_sink.to("hana@example.org"))
    page = client.get("/my")
    client.post(
        "/my/signin",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": "hana@example.org"},
    )
    drain(app)
    assert len(smtp_sink.to("hana@example.org")) == before


def test_proposals_are_limited_per_address_and_per_ip(app, database_url, redis_url):
    """Each proposal emails the address given and waits for an organiser: five a day per host
    address (any spelling, any IP) and ten an hour per IP; the GET form is never limited."""
    import redis as redis_lib

    from petitions import create_app

    redis_lib.Redis.from_url(redis_url).flushdb()
    limited = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_url,
        TASK_DISPATCH=False,
        EVENT_PROPOSAL_LIMIT_PER_IP="3 per hour",
    )
    with limited.app_context():
        campaign = make_campaign(slug="week")
        services.set_hosting(campaign, True)
        db.session.commit()
    url = "/c/week/host-an-event"

    def propose(ip: str, email: str) -> int:
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        page = client.get(url)
        assert page.status_code == 200
        data = {
            **PROPOSAL,
            "host_email": email,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        }
        return client.post(url, data=data).status_code

    try:
        spellings = [
            "hana@example.org",
            "HANA@example.org",
            "hana@EXAMPLE.ORG",
            "Hana@Example.Org",
        ]
        by_address = [propose(f"10.0.3.{n}", spellings[n % 4]) for n in range(7)]
        assert by_address[:5] == [303] * 5 and by_address[5:] == [429, 429], by_address
        by_ip = [propose("10.0.4.1", f"p{n}@example.org") for n in range(4)]
        assert by_ip == [303, 303, 303, 429], by_ip
    finally:
        with limited.app_context():
            db.engine.dispose()
        redis_lib.Redis.from_url(redis_url).flushdb()
