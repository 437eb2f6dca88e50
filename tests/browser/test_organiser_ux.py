"""Issue 15 in a real browser: a newcomer organiser brands the site (name and logo), writes,
previews, tests and schedules an email to one pledge option's supporters without publishing
an update, sees the pledge breakdown, previews the form, is asked before closing; the pages
work at 390 px; a supporter's confirmed page asks for a share. axe-core on every page."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from petitions.campaigns.models import ActionKind
from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from tests.browser.axe import assert_accessible
from tests.conftest import WorkerProcess
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.smtp import SmtpSink
from tests.support.workspace import PASSWORD, make_organiser
from tests.supporters.conftest import sign_confirmed

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPTIONS = ["I will boycott FastCo", "I will attend the protest"]


def _log_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/organise/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/organise/")


def _setup(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        admin = make_organiser("admin@example.org", admin=True)
        campaign = make_campaign(owner_id=admin.id, slug="fair", title="Fair fashion")
        pledge = make_action(
            campaign,
            kind=ActionKind.PLEDGE.value,
            slug="boycott",
            title="Boycott FastCo",
            pledge_options=OPTIONS,
        )
        petition = make_action(campaign, slug="tell", title="Tell FastCo", text="**Stop selling**")
        for email, option in [
            ("ann@example.org", OPTIONS[0]),
            ("bob@example.org", OPTIONS[0]),
            ("cat@example.org", OPTIONS[1]),
        ]:
            sign_confirmed(pledge, email, wants_updates=True, pledge_option=option)
        fold_counts()
        db.session.commit()
        return campaign.id, pledge.id, petition.id


def _logo(tmp_path: Path) -> Path:
    path = tmp_path / "logo.png"
    image = Image.new("RGB", (600, 200), (122, 31, 92))
    out = io.BytesIO()
    image.save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


def test_newcomer_organiser(
    live_app: Flask,
    live_server: str,
    browser: Any,
    worker: WorkerProcess,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    base = live_server
    campaign_id, pledge_id, petition_id = _setup(live_app)
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, base, "admin@example.org")
    assert_accessible(page)

    # Branding: the charity's name and logo.
    page.click("text=Branding")
    assert_accessible(page)
    page.fill("#org_name", "Friends of the Pier")
    page.set_input_files("#logo", str(_logo(tmp_path)))
    page.fill("#charity_number", "1234567")
    page.click("button:has-text('Save branding')")
    expect(page.locator(".site-header .brand")).to_contain_text("Friends of the Pier")
    assert page.locator("img.brand-logo").bounding_box()["width"] > 10
    assert_accessible(page)

    # The composer: write, choose one pledge option, see the count, preview, test, schedule.
    page.goto(f"{base}/organise/campaigns/{campaign_id}")
    page.click("a:has-text('Emails')")
    assert_accessible(page)
    page.click("text=Write an email")
    page.click("button:has-text('Save and preview')")  # empty: errors that say what is wrong
    expect(page.locator(".error-summary")).to_contain_text("Enter a subject")
    assert page.title().startswith("Error:")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_accessible(page)
    page.fill("#subject", "The boycott starts Monday")
    page.fill("#body", "Thank you for pledging. **Stop buying** from FastCo from Monday.")
    page.select_option("#audience", f"pledge:{pledge_id}:0")
    page.click("button:has-text('Save and preview')")
    expect(page.locator("#recipient-count")).to_have_text("2")
    frame = page.frame_locator("iframe.email-preview")
    expect(frame.locator("strong")).to_contain_text("Stop buying")
    assert "**Stop buying**" in page.inner_text("#preview-text")
    assert_accessible(page)
    page.click("button:has-text('Send a test to me')")
    [test] = smtp_sink.wait_for(1, address="admin@example.org")
    assert test.subject.startswith("[Test] The boycott starts Monday")
    assert "Friends of the Pier" in test.text()
    page.check("#when-1")
    later = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#send_at", later)
    page.click("button:has-text('Continue')")
    expect(page.locator("h1")).to_contain_text("for 2 people?")
    assert_accessible(page)
    page.click("button:has-text('Schedule for 2 people')")
    expect(page.locator("#mailing-status")).to_have_text("scheduled")
    assert_accessible(page)
    assert smtp_sink.to("ann@example.org") == []  # scheduled, not sent

    # The pledge breakdown on the dashboard and the public page.
    page.goto(f"{base}/organise/campaigns/{campaign_id}/actions/{pledge_id}/dashboard")
    expect(page.locator("#table-pledges")).to_contain_text("I will boycott FastCo")
    assert page.locator("#chart-pledges").bounding_box()["height"] > 50
    assert page.locator(".dashboard-links a:has-text('Bulk invalidation')").count() == 1
    assert_accessible(page)
    public = browser.new_context().new_page()
    public.goto(f"{base}/c/fair/boycott")
    expect(public.locator(".pledge-counts")).to_contain_text("2 will boycott FastCo")
    assert_accessible(public)

    # A preview shows the live form; submitting it stores nothing and says so.
    page.goto(f"{base}/organise/campaigns/{campaign_id}/actions/{pledge_id}/preview")
    page.check(f"input[value='{OPTIONS[1]}']")
    page.fill("#name", "Pat Preview")
    page.fill("#email", "pat@example.org")
    page.fill("#postcode", "LS1 4AP")
    assert_accessible(page)
    page.click("button:has-text('Pledge')")
    expect(page.locator("#preview-note")).to_contain_text("nothing was signed")

    # Closing an action asks once, on a page.
    page.goto(f"{base}/organise/campaigns/{campaign_id}")
    page.click(f"a[href$='/actions/{petition_id}/close']")
    expect(page.locator("h1")).to_contain_text("Close “Tell FastCo”?")
    assert_accessible(page)
    page.click("a:has-text('Cancel')")

    # Embed settings: a warning while no site is listed, and a live preview of the embed.
    page.goto(f"{base}/organise/campaigns/{campaign_id}/embed")
    expect(page.locator("#no-origins")).to_contain_text("No sites are listed yet")
    embed = page.frame_locator("iframe.embed-frame").first
    expect(embed.locator("form")).to_have_count(1)
    assert_accessible(page)

    # Phone width: no page-wide sideways scrolling; tables scroll inside themselves.
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _log_in(phone, base, "admin@example.org")
    for path in (
        f"/organise/campaigns/{campaign_id}",
        f"/organise/campaigns/{campaign_id}/dashboard",
        f"/organise/campaigns/{campaign_id}/actions/{pledge_id}/dashboard",
        f"/organise/campaigns/{campaign_id}/mailings",
        f"/organise/campaigns/{campaign_id}/mailings/new",
        f"/organise/campaigns/{campaign_id}/actions/{pledge_id}/signatures",
        "/organise/audit",
    ):
        phone.goto(base + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        wide = phone.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 392)
                .filter(e => !(e.parentElement && e.parentElement.closest('.table-scroll')))
                .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"""
        )
        assert width <= 392, (path, width, wide)
        nav = phone.locator(".workspace-nav").bounding_box()
        assert nav is None or nav["height"] < 120, (path, nav)
        assert_accessible(phone)
    assert errors == []


def test_the_confirmed_page_asks_for_a_share_and_the_next_action(
    live_app: Flask,
    live_server: str,
    browser: Any,
    worker: WorkerProcess,
    smtp_sink: SmtpSink,
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    base = live_server
    _setup(live_app)
    page = browser.new_context().new_page()
    page.goto(f"{base}/c/fair/tell")
    page.fill("#name", "Sam Supporter")
    page.fill("#email", "sam@example.org")
    page.fill("#postcode", "LS1 4AP")
    page.click("button:has-text('Sign')")
    page.wait_for_url("**/thanks")
    [mail] = smtp_sink.wait_for(1, address="sam@example.org")
    token = TOKEN_IN_LINK.search(mail.text()).group(1)
    page.goto(f"{base}/confirm/{token}")
    assert_accessible(page)
    page.click("button:has-text('Confirm')")
    expect(page.locator("h1")).to_contain_text("is confirmed")
    share = page.locator(".share-whatsapp")
    assert "source%3Dwhatsapp" in share.get_attribute("href")
    expect(page.locator(".next-action")).to_contain_text("Boycott FastCo")
    assert_accessible(page)
