"""An event's venue and address, and the host-an-event introduction, in Welsh (issue 16):
written in the event form's and the hosting page's "In Cymraeg" fieldsets; Welsh pages, the
Welsh embed, the Welsh RSVP emails and their calendar file show them; English where there is
none, and the organiser is told."""

from __future__ import annotations

from typing import Any

from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.models import EventHosting
from tests.core.test_i18n import _fresh_g
from tests.gatherings.conftest import calendar_part, event_input, make_event, rsvp_and_confirm
from tests.support.factories import make_campaign
from tests.support.workspace import csrf, login, make_organiser

MISSING = "(no Cymraeg version: shown in English)"
WELSH = {"cy": {"venue": "Grisiau neuadd y dref", "address": "Stryd Fawr, Caerdydd"}}


def _event() -> Any:
    return make_event(
        make_campaign(slug="lleoliad", title="Zqx Campaign"),
        venue="Town hall steps",
        address="High Street, Cardiff",
        translations=WELSH,
    )


def test_the_welsh_pages_and_embed_say_where_in_welsh(app: Any, factories: Any) -> None:
    action = _event()
    url = f"/e/lleoliad/{action.slug}"
    _fresh_g()
    english = app.test_client().get(url).get_data(as_text=True)
    assert "Town hall steps, High Street, Cardiff" in english
    for path in (url, f"/embed/lleoliad/{action.slug}", "/events"):
        _fresh_g()
        welsh = app.test_client().get("/cy" + path).get_data(as_text=True)
        assert "Grisiau neuadd y dref, Stryd Fawr, Caerdydd" in welsh, path
        assert "Town hall steps" not in welsh and "High Street" not in welsh, path
    _fresh_g()
    calendar = app.test_client().get(f"/cy{url}/event.ics").get_data(as_text=True)
    assert "Grisiau neuadd y dref" in calendar and "Town hall steps" not in calendar


def test_a_welsh_rsvp_gets_the_welsh_place_in_its_email_and_invite(
    app: Any, client: Any, smtp_sink: Any
) -> None:
    with app.app_context():
        action = _event()
        url = f"/e/lleoliad/{action.slug}"
    rsvp_and_confirm(app, client, smtp_sink, "/cy" + url, "cymro@example.org")
    rsvp_and_confirm(app, client, smtp_sink, url, "saes@example.org")
    welsh = smtp_sink.wait_for(2, address="cymro@example.org")[-1]
    assert "Grisiau neuadd y dref" in welsh.text() and "Town hall steps" not in welsh.text()
    invite = calendar_part(welsh)
    assert invite is not None and b"Grisiau neuadd y dref" in invite[1]
    english = smtp_sink.wait_for(2, address="saes@example.org")[-1]
    assert "Town hall steps" in english.text() and "Grisiau" not in english.text()


def _organiser(app: Any) -> Any:
    from flask import g

    make_organiser("lleoliad@example.org", admin=True)
    _fresh_g()
    g.pop("_login_user", None)
    client = app.test_client()
    login(client, "lleoliad@example.org")
    g.pop("csrf_token", None)  # the login page's: the signed-in session has a token of its own
    return client


def test_the_event_form_edits_the_welsh_place_and_keeps_the_rest(app: Any, factories: Any) -> None:
    action = make_event(make_campaign(slug="lleoliad"), venue="Town hall steps")
    action.translations = {"cy": {"title": "Diwrnod o weithredu"}}
    db.session.commit()
    client = _organiser(app)
    url = f"/organise/events/{action.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="venue__cy"' in form and MISSING in form
    data = {
        "csrf_token": csrf(client, url),
        "title": "Day of action",
        "description": "Bring a placard.",
        "starts": action_details(action).local_start.strftime("%Y-%m-%dT%H:%M"),
        "ends": action_details(action).local_end.strftime("%Y-%m-%dT%H:%M"),
        "timezone": "Europe/London",
        "venue": "Town hall steps",
        "online_url": "https://meet.example.org/secret-room",
        "capacity": "2",
        "waitlist": "y",
        "venue__cy": "Grisiau neuadd y dref",
    }
    answer = client.post(url, data=data)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    db.session.expire_all()
    assert action.translations == {
        "cy": {"title": "Diwrnod o weithredu", "venue": "Grisiau neuadd y dref"}
    }
    assert MISSING not in client.get(url).get_data(as_text=True)


def action_details(action: Any) -> Any:
    from petitions.gatherings.models import EventDetails

    return db.session.get(EventDetails, action.id)


def test_the_host_intro_in_welsh(app: Any, factories: Any) -> None:
    campaign = make_campaign(slug="lleoliad", title="Zqx Campaign")
    client = _organiser(app)
    url = f"/organise/campaigns/{campaign.id}/hosting"
    page = client.get(url).get_data(as_text=True)
    assert 'name="intro__cy"' in page
    answer = client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            "open": "1",
            "intro": "Host a stall in your town.",
            "intro__cy": "Cynhaliwch stondin yn eich tref.",
        },
    )
    assert answer.status_code == 303
    db.session.expire_all()
    hosting = db.session.get(EventHosting, campaign.id)
    assert hosting is not None
    assert hosting.translations == {"cy": {"intro": "Cynhaliwch stondin yn eich tref."}}
    _fresh_g()
    welsh = app.test_client().get("/cy/c/lleoliad/host-an-event").get_data(as_text=True)
    assert "Cynhaliwch stondin yn eich tref." in welsh and "Host a stall" not in welsh
    _fresh_g()
    english = app.test_client().get("/c/lleoliad/host-an-event").get_data(as_text=True)
    assert "Host a stall in your town." in english

    services.set_hosting(campaign, True, "Host a stall in your town.", {"cy": {"intro": ""}})
    db.session.commit()
    _fresh_g()
    welsh = app.test_client().get("/cy/c/lleoliad/host-an-event").get_data(as_text=True)
    assert "Host a stall in your town." in welsh  # the English, where there is no Welsh
    assert MISSING in client.get(url).get_data(as_text=True)


def test_welsh_places_are_checked_as_the_english_are(factories: Any) -> None:
    campaign = make_campaign(slug="lleoliad")
    try:
        services.create_event(
            campaign, event_input(translations={"cy": {"venue": "Neuadd\nnewydd"}})
        )
    except services.EventError as exc:
        assert "(Cymraeg)" in str(exc)
    else:
        raise AssertionError("a venue on two lines was accepted")
