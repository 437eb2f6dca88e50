"""Events in Welsh (issue 16): the host of a proposed event is written to in the language
they proposed it in, with links to the pages in it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.links import host_token
from petitions.gatherings.models import EventDetails
from petitions.gatherings.notifications import build_host_notice
from tests.core.test_i18n import SAME_IN_BOTH, _fresh_g, _words
from tests.gatherings.conftest import event_input, make_event, rsvp
from tests.support.factories import make_campaign
from tests.support.web import csrf_from


def test_the_host_is_written_to_in_the_language_they_proposed_in(factories: Any) -> None:
    campaign = make_campaign()
    services.set_hosting(campaign, True)
    welsh = services.propose_event(
        campaign, event_input(title="Stondin"), "Hana", "hana@example.org", language="cy"
    )
    english = services.propose_event(campaign, event_input(), "Sam", "sam@example.org")
    db.session.commit()
    assert db.session.get(EventDetails, welsh.id).host_language == "cy"
    assert db.session.get(EventDetails, english.id).host_language == "en"
    built = build_host_notice(welsh.id)
    assert built is not None
    assert built.message.subject == "Cadarnhewch eich digwyddiad: Stondin"
    assert built.message.extra_headers["Content-Language"] == "cy"
    assert "/cy/host/" in built.message.body
    other = build_host_notice(english.id)
    assert other is not None and other.message.subject == "Confirm your event: Day of action"
    assert "/cy/" not in other.message.body


def test_an_rsvp_made_in_welsh_is_answered_in_welsh(app: Any, client: Any, smtp_sink: Any) -> None:
    from tests.gatherings.conftest import rsvp_and_confirm

    with app.app_context():
        action = make_event(title="Day of action")
        action.translations = {"cy": {"title": "Diwrnod o weithredu"}}
        db.session.commit()
        url = f"/e/{action.campaign.slug}/{action.slug}"
    rsvp_and_confirm(app, client, smtp_sink, "/cy" + url, "cymro@example.org")
    rsvp_and_confirm(app, client, smtp_sink, url, "saes@example.org")
    welsh = smtp_sink.wait_for(2, address="cymro@example.org")[-1]
    assert welsh.subject == "Rydych yn mynd: Diwrnod o weithredu"
    assert welsh.message["Content-Language"] == "cy"
    assert "Mae eich RSVP wedi'i gadarnhau" in welsh.text() and "/cy/rsvp/" in welsh.text()
    assert "Pryd:" in welsh.html() and "Hello" not in welsh.text()
    english = smtp_sink.wait_for(2, address="saes@example.org")[-1]
    assert english.subject == "You're going: Day of action"
    assert "Your RSVP is confirmed" in english.text() and "/cy/" not in english.text()


# --- the supporter's event pages, in both languages ------------------------------------------

CONTENT = ["Zqx Campaign", "Zqx Event", "Zqx venue", "Zqx text", "Zqx Host", "Europe/London"]
PROPOSAL = {
    "host_name": "Zqx Host",
    "title": "Zqx Event",
    "description": "Zqx text",
    "starts": "2031-04-05T11:00",
    "ends": "2031-04-05T14:00",
    "timezone": "Europe/London",
    "venue": "Zqx venue",
    "postcode": "LS1 6HB",
    "capacity": "5",
    "waitlist": "y",
}


def _hosted_world(app: Any) -> dict[str, Any]:
    campaign = make_campaign(slug="digwyddiad", title="Zqx Campaign")
    services.set_hosting(campaign, True)
    action = make_event(campaign, title="Zqx Event", description="Zqx text", venue="Zqx venue")
    action.translations = {"cy": {"title": "Diwrnod Cymraeg", "text": "Testun Cymraeg"}}
    when = {"starts_local": datetime(2031, 4, 5, 11), "ends_local": datetime(2031, 4, 5, 14)}
    hosted = services.propose_event(
        campaign, event_input(title="Zqx Event", venue="Zqx venue", **when), "Zqx Host", "h@x.org"
    )
    db.session.commit()
    return {"event": f"/e/digwyddiad/{action.slug}", "hosted": hosted.id}


def _event_pages(app: Any, prefix: str, world: dict[str, Any], email: str) -> dict[str, str]:
    _fresh_g()
    client = app.test_client()
    get = lambda path: client.get(prefix + path).get_data(as_text=True)  # noqa: E731
    pages = {
        "list": get("/events"),
        "list near a postcode": get("/events?postcode=LS1+6HB&from=nonsense"),
        "campaign's list": get("/events?campaign=digwyddiad&postcode=nonsense"),
        "event": get(world["event"]),
    }
    bad = rsvp(client, prefix + world["event"], "not-an-address")
    assert bad.status_code == 400
    pages["event with errors"] = bad.get_data(as_text=True)
    sent = rsvp(client, prefix + world["event"], email)
    assert sent.status_code == 303
    pages["thanks"] = get(sent.location.removeprefix(prefix))
    url = "/c/digwyddiad/host-an-event"
    pages["propose"] = form = get(url)
    data = {"csrf_token": csrf_from(form), **PROPOSAL, "host_email": email, "capacity": "-1"}
    refused = client.post(prefix + url, data=data)
    assert refused.status_code == 400
    pages["propose with errors"] = refused.get_data(as_text=True)
    refused = client.post(prefix + url, data={**data, "capacity": "", "venue": ""})
    assert refused.status_code == 400
    pages["propose, no place"] = refused.get_data(as_text=True)
    proposed = client.post(prefix + url, data={**data, "capacity": "5"})
    assert proposed.status_code == 303
    pages["proposed"] = get(proposed.location.removeprefix(prefix))
    pages["host, unconfirmed"] = get(f"/host/{host_token(world['hosted'])}")
    return pages


def test_the_event_pages_have_no_english_of_ours_in_welsh(app: Any, factories: Any) -> None:
    world = _hosted_world(app)
    details = db.session.get(EventDetails, world["hosted"])
    english = _event_pages(app, "", world, "saes@example.org")
    welsh = _event_pages(app, "/cy", world, "cymro@example.org")
    # Approved, with someone coming: the host's page lists them.
    services.confirm_host(details.action)
    services.review_event(details.action, True, "Zqx Host")
    db.session.commit()
    for prefix, pages in (("", english), ("/cy", welsh)):
        _fresh_g()
        page = app.test_client().get(f"{prefix}/host/{host_token(world['hosted'])}")
        pages["host, approved"] = page.get_data(as_text=True)
    left = {}
    for name, html in welsh.items():
        same = (_words(html, CONTENT) & _words(english[name], CONTENT)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh pages: {left}"
    assert "<h1>Diwrnod Cymraeg</h1>" in welsh["event"] and "Testun Cymraeg" in welsh["event"]
    assert "text=Diwrnod+Cymraeg" in welsh["event"] or "text=Diwrnod%20Cymraeg" in welsh["event"]
    calendar = app.test_client().get("/cy" + world["event"] + "/event.ics").get_data(as_text=True)
    assert "SUMMARY:Diwrnod Cymraeg" in calendar and "Testun Cymraeg" in calendar
    assert "Diwrnod Cymraeg" in welsh["list"] and "Zqx Event" in english["list"]
    assert "Ebrill 2031" in welsh["host, approved"]  # the date in Welsh, in the event's zone
    assert "Cylchfa amser" in welsh["propose"] and "Nifer y lleoedd" in welsh["propose with errors"]
    assert "Rhowch le (lleoliad neu gyfeiriad)" in welsh["propose, no place"]
    assert "Give a place (venue or address)" in english["propose, no place"]
    assert "Cadarnhau fy nigwyddiad" in welsh["host, unconfirmed"]


# --- the organisers' event pages, in both languages ------------------------------------------

ORGANISER_CONTENT = [*CONTENT, "Zqx Access", "Zqx Attendee", "zqx-attendee@example.org", "Zqx"]
ORGANISER_CONTENT += ["Bring a placard", "/c/trefnu/host-an-event"]  # a description, an address


def _workspace_words(html: str) -> set[str]:
    """The words of the workspace part of the page (what the organiser reads), without content."""
    return _words(html[html.index('<div class="workspace">') :], ORGANISER_CONTENT)


def _organiser_pages(app: Any, prefix: str, ids: dict[str, int]) -> dict[str, str]:
    from flask import g

    from tests.support.workspace import csrf, login

    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    client = app.test_client()
    login(client, "zqx-org@example.org")
    g.pop("csrf_token", None)  # the login page's: the signed-in session has a token of its own
    pages = {}
    for name, path in {
        "hosting": f"/organise/campaigns/{ids['campaign']}/hosting",
        "attendees": f"/organise/events/{ids['event']}/attendees",
        "check-in sheet": f"/organise/events/{ids['event']}/attendees?view=sheet",
        "new event": f"/organise/campaigns/{ids['campaign']}/events/new",
        "edit event": f"/organise/events/{ids['event']}/edit",
    }.items():
        answer = client.get(prefix + path)
        assert answer.status_code == 200, (name, answer.status_code)
        pages[name] = answer.get_data(as_text=True)
    url = f"{prefix}/organise/campaigns/{ids['campaign']}/events/new"
    refused = client.post(url, data={"csrf_token": csrf(client, url), "title": ""})
    assert refused.status_code == 400
    pages["new event with errors"] = refused.get_data(as_text=True)
    return pages


def test_the_organisers_event_pages_have_no_english_of_ours_in_welsh(
    app: Any, factories: Any
) -> None:
    from petitions.gatherings.models import EventDelivery, Rsvp
    from tests.support.factories import make_signature
    from tests.support.workspace import make_organiser

    owner = make_organiser("zqx-org@example.org", admin=True)
    campaign = make_campaign(slug="trefnu", title="Zqx Campaign", owner_id=owner.id)
    services.set_hosting(campaign, True)
    access = services.Question("access", "Zqx Access", sensitive=True)
    event = make_event(campaign, title="Zqx Event", venue="Zqx venue", questions=[access])
    signature_id = make_signature(event, "zqx-attendee@example.org", name="Zqx Attendee")
    rsvp_row = Rsvp(action_id=event.id, signature_id=signature_id, status="going")
    db.session.add(rsvp_row)
    db.session.flush()
    db.session.add(EventDelivery(rsvp_id=rsvp_row.id, message="reminder:24h", status="sent"))
    for proposer in ("pending", "unconfirmed"):
        hosted = services.propose_event(
            campaign, event_input(title="Zqx Event", venue="Zqx venue"), "Zqx Host", "h@x.org"
        )
        if proposer == "pending":
            services.confirm_host(hosted)
    db.session.commit()
    ids = {"campaign": campaign.id, "event": event.id}
    english = _organiser_pages(app, "", ids)
    welsh = _organiser_pages(app, "/cy", ids)
    left = {}
    for name, html in welsh.items():
        same = (_workspace_words(html) & _workspace_words(english[name])) - SAME_IN_BOTH
        if same - {"Markdown"}:  # a name
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh pages: {left}"
    assert "Nodyn atgoffa 24 awr ymlaen llaw: 1 wedi'i anfon" in welsh["attendees"]
    assert "Reminder 24 hours before: 1 sent" in english["attendees"]
    assert "Cymeradwyo" in welsh["hosting"] and "Digwyddiad newydd" in welsh["new event"]
