"""RSVP in a real browser: two supporters go for the last place of an event at once; one gets
it (and the calendar invite), the other lands on the waitlist and is told so; the organiser's
open dashboard shows the place taken and the waitlist without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar

from petitions.extensions import db
from tests.conftest import WorkerProcess
from tests.gatherings.conftest import calendar_part, make_event
from tests.support.factories import TOKEN_IN_LINK, make_campaign
from tests.support.smtp import SmtpSink
from tests.support.workspace import PASSWORD, make_organiser

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_two_browsers_last_place(
    live_app: Flask,
    live_server: str,
    browser: Any,
    worker: WorkerProcess,
    smtp_sink: SmtpSink,
) -> None:
    base = live_server
    live_app.config["DASHBOARD_POLL_MS"] = 1000
    with live_app.app_context():
        owner = make_organiser("org@example.org")
        action = make_event(make_campaign(slug="gather", owner_id=owner.id), capacity=1)
        url = f"{base}/e/gather/{action.slug}"
        dashboard = f"{base}/organise/campaigns/{action.campaign_id}/actions/{action.id}/dashboard"
        db.session.remove()
    organiser = browser.new_context().new_page()
    organiser.goto(f"{base}/organise/login")
    organiser.fill("#email", "org@example.org")
    organiser.fill("#password", PASSWORD)
    organiser.click("main button[type=submit]")
    organiser.wait_for_url(f"{base}/organise/")
    organiser.goto(dashboard)
    going_cell = organiser.locator('#table-events [data-key="going"]')
    assert going_cell.inner_text() == "0 / 1"
    pages = []
    errors: list[str] = []
    for name in ("ann", "bob"):
        page = browser.new_context().new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        assert "1 place left" in page.inner_text(".places") or "left" in page.inner_text(".places")
        page.fill("#name", name.title())
        page.fill("#email", f"{name}@example.org")
        page.fill("#postcode", "SW1A 1AA")
        page.click("main form.sign-form button[type=submit]")
        page.wait_for_url("**/thanks")
        pages.append(page)
    for page, name in zip(pages, ("ann", "bob"), strict=True):
        [mail] = smtp_sink.wait_for(1, address=f"{name}@example.org")
        token = TOKEN_IN_LINK.search(mail.text()).group(1)
        page.goto(f"{base}/confirm/{token}")
    # Both press Confirm at (nearly) the same moment.
    for page in pages:
        page.click("main button[type=submit]", no_wait_after=True)
    for page in pages:
        page.wait_for_selector("text=is confirmed")
    ann = smtp_sink.wait_for(2, address="ann@example.org", timeout=20)[-1]
    bob = smtp_sink.wait_for(2, address="bob@example.org", timeout=20)[-1]
    subjects = sorted([ann.subject.split(":")[0], bob.subject.split(":")[0]])
    assert subjects == ["On the waitlist", "You're going"]
    going = ann if ann.subject.startswith("You're going") else bob
    _content_type, payload = calendar_part(going)
    assert str(Calendar.from_ical(payload)["METHOD"]) == "REQUEST"
    pages[0].goto(url)
    places = pages[0].inner_text(".places")
    assert "1 going" in places and "1 on the waitlist" in places
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(going_cell).to_have_text("1 / 1", timeout=20_000)  # polled, no reload
    expect(organiser.locator('#table-events [data-key="waitlisted"]')).to_have_text("1")
    assert organiser.url == dashboard
    assert not errors
