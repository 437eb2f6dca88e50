"""A page on another local origin embeds the widget and collects a confirmed signature.

The app is served on http://127.0.0.1:<port>; the embedding page on http://localhost:<other>,
a different site, so the browser treats the iframe as third-party (no SameSite=Lax cookies).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from flask import Flask

from petitions.extensions import db
from tests.conftest import wait_for
from tests.support.factories import TOKEN_IN_LINK
from tests.support.smtp import SmtpSink
from tests.support.web import csrf_from

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_widget_on_another_origin_collects_a_confirmed_signature(
    live_app: Flask, app_server: str, host_site: Any, smtp_sink: SmtpSink
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.support import factories

    with live_app.app_context():
        campaign = factories.make_campaign(embed_origins=host_site.url)
        action = factories.make_action(campaign, title="Save the meadow")
        db.session.commit()
        slug, action_slug = campaign.slug, action.slug
    embed_url = f"{app_server}/embed/{slug}/{action_slug}?source=partner"
    host_site.html["/"] = f"""<!doctype html><html><body>
      <h1>Partner site</h1>
      <iframe src="{embed_url}" data-petitions-embed title="Petition"
              style="width:100%;height:300px;border:0"></iframe>
      <script src="{app_server}/static/embed/embed.js"></script>
    </body></html>"""

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(host_site.url + "/")
            frame = page.frame_locator("iframe[data-petitions-embed]")
            frame.locator("text=Save the meadow").first.wait_for()
            frame.locator("#name").fill("Fran Framed")
            frame.locator("#email").fill("fran@example.org")
            frame.locator("#postcode").fill("SW1A 1AA")
            frame.locator("button[type=submit]").click()
            frame.locator("text=check your email").wait_for()
            # The resize script grew the iframe to fit its content.
            height = page.eval_on_selector("iframe", "el => el.getBoundingClientRect().height")
            assert height != 300
        finally:
            browser.close()

    mail = smtp_sink.wait_for(1, address="fran@example.org")[0]
    token = TOKEN_IN_LINK.search(mail.text())
    assert token
    client = live_app.test_client()
    confirm = f"/confirm/{token.group(1)}"
    page_html = client.get(confirm).get_data(as_text=True)
    assert client.post(confirm, data={"csrf_token": csrf_from(page_html)}).status_code == 200

    count_url = f"{app_server}/api/v1/campaigns/{slug}/actions/{action_slug}/count"

    def confirmed() -> int:
        with urllib.request.urlopen(count_url, timeout=5) as response:  # noqa: S310
            return int(json.load(response)["confirmed"])

    assert wait_for(confirmed, timeout=20) == 1
    with live_app.app_context():
        from sqlalchemy import select

        from petitions.signing.models import Signature

        signature = db.session.scalar(select(Signature))
        assert signature is not None and signature.confirmed_at is not None
        assert signature.source == "partner" and signature.referrer == "localhost"
