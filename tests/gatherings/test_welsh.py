"""Events in Welsh (issue 16): the host of a proposed event is written to in the language
they proposed it in, with links to the pages in it."""

from __future__ import annotations

from typing import Any

from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.models import EventDetails
from petitions.gatherings.notifications import build_host_notice
from tests.gatherings.conftest import event_input
from tests.support.factories import make_campaign


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
    from tests.gatherings.conftest import make_event, rsvp_and_confirm

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
