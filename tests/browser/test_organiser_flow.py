"""The whole organiser flow in a real browser: build, publish, watch the dashboard move while a
supporter signs and confirms in another browser context, export the CSV; another organiser
gets 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import WorkerProcess
from tests.support.factories import TOKEN_IN_LINK
from tests.support.smtp import SmtpSink
from tests.support.workspace import PASSWORD, make_organiser

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _log_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/organise/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/organise/")


def test_admin_builds_watches_and_exports(
    live_app: Flask,
    live_server: str,
    browser: Any,
    worker: WorkerProcess,
    smtp_sink: SmtpSink,
) -> None:
    base = live_server
    live_app.config["EXPORT_DIR"] = str(Path(worker.env["PETITIONS_INSTANCE"]) / "exports")
    live_app.config["DASHBOARD_POLL_MS"] = 1000
    with live_app.app_context():
        make_organiser("admin@example.org", admin=True)
        make_organiser("bob@example.org")
    try:
        admin = browser.new_context().new_page()
        errors: list[str] = []
        admin.on("pageerror", lambda error: errors.append(str(error)))
        admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        failed: list[str] = []
        admin.on(
            "response",
            lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
        )
        _log_in(admin, base, "admin@example.org")

        # Build a campaign with a petition, then publish it.
        admin.click("text=New campaign")
        admin.fill("#title", "Light the underpass")
        admin.click("main button[type=submit]")
        admin.click("text=Add a petition or pledge")
        admin.fill("#title", "Council: fix the lights")
        admin.fill("#text", "Please fix the lights in the underpass.")
        admin.fill("#goal", "10")
        admin.click("main button[type=submit]")
        admin.click("button:has-text('Publish')")
        assert admin.inner_text(".status").lower() == "live"
        campaign_url = admin.url

        # Leave the dashboard open.
        admin.click("a:has-text('Dashboard') >> nth=1")
        dashboard_url = admin.url
        assert admin.inner_text("#confirmed-count") == "0"

        # A supporter signs in another browser context and confirms from the email.
        supporter = browser.new_context().new_page()
        supporter.goto(f"{base}/c/light-the-underpass/council-fix-the-lights")
        supporter.fill("#name", "Sam Supporter")
        supporter.fill("#email", "sam@example.org")
        supporter.fill("#postcode", "LS1 4AP")
        supporter.click("button:has-text('Sign')")
        supporter.wait_for_url("**/thanks")
        [mail] = smtp_sink.wait_for(1, address="sam@example.org")
        token = TOKEN_IN_LINK.search(mail.text()).group(1)
        supporter.goto(f"{base}/confirm/{token}")
        supporter.click("button:has-text('Confirm')")
        supporter.wait_for_selector("text=is confirmed")

        # The open dashboard shows it without a reload.
        expect = pytest.importorskip("playwright.sync_api").expect
        expect(admin.locator("#confirmed-count")).to_have_text("1", timeout=20_000)
        assert admin.url == dashboard_url
        assert "Sam Supporter" in admin.inner_text("#latest")
        assert "LS" in admin.inner_text("#table-areas")
        assert admin.locator("#chart-hourly").bounding_box()["height"] > 50  # Chart.js drew
        # No script errors or CSP violations (a missing favicon is the only 404 allowed).
        assert [e for e in errors if not e.startswith("Failed to load resource")] == []
        assert failed == []

        # Export the CSV: a progress bar, then a download link.
        admin.goto(campaign_url)
        admin.click("a:has-text('Export')")
        admin.click("button:has-text('Export confirmed signatures')")
        admin.wait_for_selector("#export-ready:not([hidden])", timeout=20_000)
        export_url = admin.url
        with admin.expect_download() as caught:
            admin.click("#export-download")
        content = Path(caught.value.path()).read_text(encoding="utf-8-sig")
        assert "sam@example.org" in content and "consent_to_contact" in content

        # Another organiser gets 404 on that campaign's dashboard and export.
        bob = browser.new_context().new_page()
        _log_in(bob, base, "bob@example.org")
        assert bob.goto(dashboard_url).status == 404
        assert bob.goto(export_url).status == 404
        assert bob.goto(export_url + "/download").status == 404
    finally:
        live_app.config["EXPORT_DIR"] = ""
        live_app.config.pop("DASHBOARD_POLL_MS", None)
