"""Events in the public API: upcoming events per campaign and overall, nearest first to a
postcode, no personal data; supporters' proposals stay out of every public answer until
approved."""

from __future__ import annotations

import json
from typing import Any

from petitions.extensions import db
from petitions.gatherings import services
from tests.gatherings.conftest import event_input, make_event


def _seed(factories: Any) -> dict[str, Any]:
    campaign = factories.make_campaign(slug="week")
    day = make_event(campaign, title="Day of action", postcode="SW1A 1AA", capacity=2)
    factories.make_signature(day, "ann@example.org", name="Ann Attendee")
    services.record_rsvp(day, factories.make_signature(day, "bo@example.org"), {}, {})
    services.set_hosting(campaign, True)
    proposal = services.propose_event(
        campaign, event_input(title="Secret proposal", postcode="M1 1AA"), "Hana", "hana@x.org"
    )
    approved = services.propose_event(
        campaign, event_input(title="Approved stall", postcode="M1 1AB"), "Olu", "olu@x.org"
    )
    services.confirm_host(approved)
    services.review_event(approved, True)
    db.session.commit()
    return {"day": day.id, "proposal": proposal.slug, "approved": approved.id}


def test_upcoming_events_have_no_personal_data(client: Any, factories: Any) -> None:
    ids = _seed(factories)
    response = client.get("/api/v1/campaigns/week/events")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    titles = [e["title"] for e in body["data"]]
    assert sorted(titles) == ["Approved stall", "Day of action"] and body["total"] == 2
    day = next(e for e in body["data"] if e["id"] == ids["day"])
    assert day["timezone"] == "Europe/London" and day["starts_at"].endswith("Z")
    assert day["local_start"][-6:] in ("+00:00", "+01:00")
    assert (day["capacity"], day["going"], day["places_left"], day["full"]) == (2, 0, 2, False)
    assert day["place"]["online"] is True and day["links"]["ics"].endswith("/event.ics")
    assert day["links"]["embed"].endswith(f"/embed/week/{day['slug']}")
    text = json.dumps(body)
    for private in ("secret-room", "ann@", "Ann Attendee", "Hana", "hana@", "Olu", "olu@"):
        assert private not in text, private
    assert next(e for e in body["data"] if e["id"] == ids["approved"])["hosted"] is True
    assert client.get("/api/v1/campaigns/nope/events").status_code == 404
    assert client.get("/api/v1/events").get_json()["total"] == 2
    assert client.get("/api/v1/").get_json()["links"]["events"].endswith("/api/v1/events")


def test_events_nearest_first_to_a_postcode(client: Any, factories: Any) -> None:
    _seed(factories)
    near_m = client.get("/api/v1/events?postcode=M1+1ZZ").get_json()["data"]
    assert [e["title"] for e in near_m] == ["Approved stall", "Day of action"]
    assert near_m[0]["nearness"] == "In your postcode district" and near_m[1]["nearness"] is None
    near_sw = client.get("/api/v1/events?postcode=sw1a1aa").get_json()["data"]
    assert near_sw[0]["title"] == "Day of action" and near_sw[0]["nearness"] == "At your postcode"
    for odd in ("12345", "x" * 16, "AA"):  # not postcodes (or no events there): soonest first
        assert client.get(f"/api/v1/events?postcode={odd}").status_code == 200, odd
    for bad in ("%E2%80%AE", "%27%3B--", "SW1A%0A"):
        assert client.get(f"/api/v1/events?postcode={bad}").status_code == 400, bad
    too_long = client.get("/api/v1/events?postcode=" + "x" * 40)
    assert too_long.status_code == 400 and too_long.get_json()["status"] == 400


def test_a_proposal_is_in_no_public_answer_until_approved(client: Any, factories: Any) -> None:
    ids = _seed(factories)
    slug = ids["proposal"]
    everything = json.dumps(
        [
            client.get("/api/v1/campaigns").get_json(),
            client.get("/api/v1/campaigns/week").get_json(),
            client.get("/api/v1/actions").get_json(),
            client.get("/api/v1/events").get_json(),
        ]
    )
    assert "Secret proposal" not in everything and "Approved stall" in everything
    assert client.get(f"/api/v1/campaigns/week/actions/{slug}").status_code == 404
    assert client.get(f"/api/v1/campaigns/week/actions/{slug}/count").status_code == 404
    assert client.get("/api/v1/actions").get_json()["total"] == 2
