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
