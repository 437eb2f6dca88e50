"""OSDI events and attendances, and the record attendance helper (an RSVP through the same
intake as the event page: double opt-in, the place given at confirmation)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.models import Rsvp
from tests.api.test_osdi import HAL, person
from tests.gatherings.conftest import confirm, event_input, make_event
from tests.support.workspace import make_organiser


def _event(factories: Any, owner: Any = None) -> Any:
    campaign = factories.make_campaign(slug="gather", owner_id=owner.id if owner else None)
    action = make_event(
        campaign,
        capacity=1,
        postcode="SW1A 1AA",
        questions=services.parse_questions("Bringing a guest?\n!Access needs"),
    )
    services.set_hosting(campaign, True)
    services.propose_event(campaign, event_input(title="Pending one"), "Hana", "hana@x.org")
    db.session.commit()
    return action


def test_events_in_osdi_names_without_personal_data(client: Any, factories: Any) -> None:
    action = _event(factories)
    entry = client.get("/api/osdi/v1/").get_json()
    assert entry["_links"]["osdi:events"]["href"].endswith("/api/osdi/v1/events")
    page = client.get("/api/osdi/v1/events")
    assert page.status_code == 200 and page.mimetype == HAL
    body = page.get_json()
    assert body["total_records"] == 1, "a proposal waiting for approval is not listed"
    (event,) = body["_embedded"]["osdi:events"]
    assert event["title"] == "Day of action" and event["status"] == "confirmed"
    assert event["type"] == "ticketed" and event["capacity"] == 1 and event["total_accepted"] == 0
    assert event["start_date"].endswith("Z") and event["petitions:timezone"] == "Europe/London"
    assert event["location"]["postal_code"] == "SW1A 1AA" and event["petitions:online"] is True
    helper = event["_links"]["osdi:record_attendance_helper"]["href"]
    assert helper.endswith(f"/api/osdi/v1/events/{action.id}/attendances")
    assert "secret-room" not in json.dumps(body) and "hana" not in json.dumps(body).lower()
    one = client.get(f"/api/osdi/v1/events/{action.id}")
    assert one.status_code == 200 and one.get_json()["identifiers"][0] == f"petitions:{action.id}"
    assert client.get("/api/osdi/v1/events/2147483647").status_code == 404
    assert client.get("/api/osdi/v1/events/0").status_code == 404


def test_record_attendance_helper_rsvps_with_double_opt_in(
    app: Flask, client: Any, factories: Any, smtp_sink: Any, token_for: Any
) -> None:
    ann = make_organiser("ann@example.org")
    action = _event(factories, ann)
    url = f"/api/osdi/v1/events/{action.id}/attendances"
    body = person("sam@example.org", **{"petitions:answers": {"access_needs": "Step-free"}})
    response = client.post(url, json=body)
    assert response.status_code == 200, response.get_json()
    accepted = response.get_json()
    assert accepted["petitions:status"] == "pending_confirmation"
    again = client.post(url, json=body)
    assert again.get_json() == accepted, "the same answer for someone who had RSVPed"
    assert client.post(url, json={"person": {"given_name": "X"}}).status_code == 422
    bad = client.post(url, json=person("x@example.org", **{"petitions:answers": {"a": 5}}))
    assert bad.status_code == 422
    zero_width = person("z@example.org", **{"petitions:answers": {"access_needs": "a\u200bb"}})
    assert client.post(url, json=zero_width).status_code == 422
    assert client.post(url, data="nope", content_type="application/json").status_code == 400

    confirm(app, client, smtp_sink, "sam@example.org")
    rsvp_row = db.session.scalar(select(Rsvp))
    assert rsvp_row.status == "going" and rsvp_row.sensitive_answers == {
        "access_needs": "Step-free"
    }

    # The organiser's token reads the attendances, without the sensitive answers.
    assert client.get(url).status_code == 401
    token = {"OSDI-API-Token": token_for(ann)}
    listed = client.get(url, headers=token)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    (attendance,) = listed.get_json()["_embedded"]["osdi:attendances"]
    assert attendance["status"] == "accepted" and attendance["petitions:rsvp_status"] == "going"
    assert attendance["attended"] is False
    assert attendance["_embedded"]["osdi:person"]["email_addresses"][0]["address"] == (
        "sam@example.org"
    )
    assert "Step-free" not in json.dumps(listed.get_json())
    self_link = attendance["_links"]["self"]["href"]
    assert (
        client.get(self_link, headers=token).get_json()["identifiers"]
        == (attendance["identifiers"])
    )
    services.check_in(db.session.get(Rsvp, rsvp_row.id))
    db.session.commit()
    assert client.get(self_link, headers=token).get_json()["attended"] is True
    bob = make_organiser("bob@example.org")
    assert client.get(url, headers={"OSDI-API-Token": token_for(bob)}).status_code == 404

    services.cancel_event(action)
    db.session.commit()
    assert client.post(url, json=person("late@example.org")).status_code == 409
    assert client.get(f"/api/osdi/v1/events/{action.id}").get_json()["status"] == "cancelled"
