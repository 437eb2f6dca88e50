"""Supporter-hosted events in a real browser: a supporter proposes a local event and confirms
it from the email, the organiser approves it (the host is emailed), and it shows in the public
list, nearest first to a postcode, where someone can RSVP to it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.gatherings import services
from tests.conftest import WorkerProcess
from tests.support.factories import make_campaign
from tests.support.smtp import SmtpSink
from tests.support.workspace import PASSWORD, make_organiser

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_propose_approve_and_find_it_nearest_first(
    live_app: Flask,
    live_server: str,
    browser: Any,
    worker: WorkerProcess,
    smtp_sink: SmtpSink,
) -> None:
    base = live_server
    with live_app.app_context():
        owner = make_organiser("org@example.org")
        campaign = make_campaign(slug="week", owner_id=owner.id)
        services.set_hosting(campaign, True, "Run something near you!")
        campaign_id = campaign.id
        db.session.commit()
        db.session.remove()
    errors: list[str] = []

    host = browser.new_context().new_page()
    host.on("pageerror", lambda error: errors.append(str(error)))
    host.goto(f"{base}/c/week")
    host.click("text=Host your own event")
    day = (utcnow() + timedelta(days=12)).date().isoformat()
    host.fill("#host_name", "Hana Host")
    host.fill("#host_email", "hana@example.org")
    host.fill("#title", "Leeds stall on Briggate")
    host.fill("#description", "Leaflets and a petition table.")
    host.fill("#starts", f"{day}T11:00")
    host.fill("#ends", f"{day}T14:00")
    host.fill("#venue", "Briggate")
    host.fill("#postcode", "LS1 6HB")
    host.fill("#capacity", "5")
    host.click("main form button[type=submit]")
    host.wait_for_url("**/thanks")
    to_confirm = smtp_sink.wait_for(1, address="hana@example.org", timeout=20)[-1]
    assert to_confirm.subject.startswith("Confirm your event")
    host_link = re.search(r"https?://[^\s]+/host/[A-Za-z0-9_.-]+", to_confirm.text()).group(0)
    host.goto(host_link.replace(host_link.split("/host/")[0], base))
    host.click("text=Confirm my event")
    host.wait_for_selector("text=with the organisers now")
    received = smtp_sink.wait_for(2, address="hana@example.org", timeout=20)[-1]
    assert received.subject.startswith("We've received")
    host.goto(f"{base}/events")
    assert "Leeds stall" not in host.inner_text("main"), "not listed before approval"

    organiser = browser.new_context().new_page()
    organiser.on("pageerror", lambda error: errors.append(str(error)))
    organiser.goto(f"{base}/organise/login")
    organiser.fill("#email", "org@example.org")
    organiser.fill("#password", PASSWORD)
    organiser.click("main button[type=submit]")
    organiser.wait_for_url(f"{base}/organise/")
    organiser.goto(f"{base}/organise/campaigns/{campaign_id}/hosting")
    assert "Leeds stall on Briggate" in organiser.inner_text("main")
    organiser.fill("input[name=note]", "Lovely, thank you")
    organiser.click("button[value=approve]")
    organiser.wait_for_selector("text=it is public now")
    approved = smtp_sink.wait_for(3, address="hana@example.org", timeout=20)[-1]
    assert approved.subject.startswith("Your event is approved")

    visitor = browser.new_context().new_page()
    visitor.on("pageerror", lambda error: errors.append(str(error)))
    visitor.goto(f"{base}/events")
    visitor.fill("#postcode", "ls1 4ap")
    visitor.click("main form[role=search] button[type=submit]")
    visitor.wait_for_selector("text=Nearest to LS1 4AP first")
    card = visitor.locator(".event-card", has_text="Leeds stall on Briggate")
    assert "In your postcode district" in card.inner_text()
    card.locator("a").first.click()
    visitor.wait_for_selector("text=5 left")
    visitor.fill("#name", "Sam")
    visitor.fill("#email", "sam@example.org")
    visitor.fill("#postcode", "LS1 4AP")
    visitor.click("main form.sign-form button[type=submit]")
    visitor.wait_for_url("**/thanks")
    assert smtp_sink.wait_for(1, address="sam@example.org", timeout=20)
    assert not errors
