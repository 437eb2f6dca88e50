"""Dashboards read the tallies (and one short index range for the latest signers)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import event

from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts
from petitions.dashboards.queries import projection
from petitions.extensions import db
from tests.support.factories import make_action, make_campaign, make_signature
from tests.support.workspace import confirmed_signature, login, make_organiser


def _setup(app: Flask) -> tuple[int, int]:
    now = utcnow()
    with app.app_context():
        ann = make_organiser("ann@example.org")
        campaign = make_campaign(owner_id=ann.id)
        action = make_action(campaign, goal=10)
        confirmed_signature(action, "a@example.org", name="Ann", source="email", comment="Yes!")
        confirmed_signature(
            action, "b@example.org", name="Bo", source="email", referrer="news.example"
        )
        confirmed_signature(
            action,
            "c@example.org",
            name="Cy",
            country="FR",
            postcode="75001",
            postcode_area="",
            when=now - timedelta(days=2),
        )
        make_signature(action, "pending@example.org", name="Pending Person")
        fold_counts()
        return campaign.id, action.id


def test_the_json_endpoint_has_the_numbers(app: Flask) -> None:
    campaign_id, action_id = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    response = client.get(f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert (data["confirmed"], data["pending"], data["goal"]) == (3, 1, 10)
    assert data["confirmation_rate"] == 0.75
    assert data["percent"] == 30
    # Three signatures are too few to promise a date (issue 15): it says so instead.
    assert data["projected_date"] is None and not data["goal_reached"]
    assert "Not enough data yet" in data["projection_note"]
    assert {"source": "email", "n": 2} in data["sources"]
    assert {"referrer": "news.example", "n": 1} in data["referrers"]
    assert data["countries"][0] == {"country": "GB", "n": 2}
    assert data["uk_areas"] == [{"area": "SW", "n": 2}]
    assert [s["name"] for s in data["latest"]] == ["Bo", "Ann", "Cy"]
    assert data["latest"][1]["comment"] == "Yes!"
    assert "email" not in data["latest"][0]
    assert sum(h["n"] for h in data["hourly"]) == 3
    assert sum(d["n"] for d in data["daily"]) == 3 and len(data["daily"]) == 3

    whole = client.get(f"/organise/campaigns/{campaign_id}/dashboard.json").get_json()
    assert whole["confirmed"] == 3


def test_the_page_renders_with_the_chart_library_and_no_inline_script(app: Flask) -> None:
    campaign_id, action_id = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    for url in (
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard",
        f"/organise/campaigns/{campaign_id}/dashboard",
    ):
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "vendor/chart.umd.min.js" in html and "workspace/dashboard.js" in html
        assert 'id="confirmed-count">3<' in html
        assert "<script>" not in html  # only src= scripts and the JSON data block
    assert client.get("/static/vendor/chart.umd.min.js").status_code == 200


def test_the_dashboard_does_not_scan_signatures(app: Flask) -> None:
    campaign_id, action_id = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard.json")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    touching = [s for s in statements if "FROM signatures" in s]
    assert len(touching) == 1  # the latest signers: a bounded index range
    assert "ORDER BY signatures.confirmed_at DESC" in touching[0] and "LIMIT" in touching[0]


def test_another_organiser_gets_404(app: Flask) -> None:
    campaign_id, action_id = _setup(app)
    with app.app_context():
        make_organiser("bob@example.org")
    bob = app.test_client()
    login(bob, "bob@example.org")
    for url in (
        f"/organise/campaigns/{campaign_id}/dashboard",
        f"/organise/campaigns/{campaign_id}/dashboard.json",
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard",
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard.json",
    ):
        assert bob.get(url).status_code == 404, url


def test_projection() -> None:
    today = date(2026, 1, 1)
    quiet = [{"t": "", "n": 0}] * 168
    assert projection(0, 100, quiet, today) == (0.0, None)
    # 48 signatures over the last 48 hours: 24 a day, 240 to go: 10 days.
    window = [{"t": "", "n": 0}] * 120 + [{"t": "", "n": 1}] * 48
    assert projection(760, 1000, window, today) == (24.0, "2026-01-11")
    assert projection(1000, 1000, window, today)[1] is None
    # Two signatures in the first hour: a rate, but no date (it would say 2033).
    early = [{"t": "", "n": 0}] * 167 + [{"t": "", "n": 2}]
    assert projection(2, 1000, early, today) == (2.0, None)
    # Ten over a day are enough.
    day = [{"t": "", "n": 0}] * 144 + [{"t": "", "n": 1}] * 10 + [{"t": "", "n": 0}] * 14
    assert projection(10, 1000, day, today)[1] is not None


def test_an_event_dashboard_shows_places_waitlist_cancellations_and_attendance(app: Flask) -> None:
    from petitions.gatherings import services
    from petitions.gatherings.models import Rsvp
    from tests.gatherings.conftest import make_event

    with app.app_context():
        ann = make_organiser("ann@example.org")
        campaign = make_campaign(owner_id=ann.id, slug="gather")
        action = make_event(campaign, capacity=2)
        rsvps = []
        for name in ("a", "b", "c", "d"):
            signature_id = confirmed_signature(action, f"{name}@example.org")
            services.record_rsvp(action, signature_id, {}, {})
            rsvps.append(services.place_confirmed(signature_id).id)
        services.cancel_rsvp(db.session.get(Rsvp, rsvps[3]))  # d was waiting: leaves the queue
        services.check_in(db.session.get(Rsvp, rsvps[0]))
        db.session.commit()
        fold_counts()
        campaign_id, action_id = campaign.id, action.id
    client = app.test_client()
    login(client, "ann@example.org")
    data = client.get(
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard.json"
    ).get_json()
    (figures,) = data["events"]
    assert (figures["going"], figures["capacity"], figures["places_left"]) == (2, 2, 0)
    assert (figures["waitlisted"], figures["cancelled"], figures["checked_in"]) == (1, 1, 1)
    assert figures["attendance_rate"] == 0.5  # someone was checked in: half of those going
    assert data["confirmed"] == 3 and sum(d["n"] for d in data["daily"]) == 3
    assert "email" not in str(figures)
    page = client.get(f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard")
    html = page.get_data(as_text=True)
    assert 'id="table-events"' in html and "confirmed RSVPs per day" in html
    assert 'data-key="attendance_rate">50%<' in html
    whole = client.get(f"/organise/campaigns/{campaign_id}/dashboard.json").get_json()
    assert [e["action_id"] for e in whole["events"]] == [action_id]
