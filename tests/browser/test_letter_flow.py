"""Writing to the demo MP in a real browser: postcode, see the MP (who supports the ask, so
the suggested letter thanks them), edit, send, confirm from the email, and the letter arrives
addressed to the MP with the supporter as Reply-To."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from petitions.campaigns.demo import create_demo_campaign
from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.letters.demo import MP_SLUG, create_demo_letters
from petitions.letters.models import LetterDelivery
from tests.conftest import WorkerProcess, wait_for
from tests.support.factories import TOKEN_IN_LINK
from tests.support.smtp import SmtpSink
from tests.support.workspace import PASSWORD, make_organiser

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_write_to_the_demo_mp(
    live_app: Flask,
    live_server: str,
    browser: Any,
    worker: WorkerProcess,
    smtp_sink: SmtpSink,
) -> None:
    with live_app.app_context():
        campaign = create_demo_campaign()
        create_demo_letters(campaign)
        db.session.commit()
        url = f"{live_server}/c/{campaign.slug}/ask-your-mp-to-back-the-amendment"
        db.session.remove()
    errors: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)  # the campaign's link redirects to the letter page
    page.fill("#lookup-postcode", "gu11 1aa")
    page.click("form.postcode-form button[type=submit]")
    page.wait_for_selector("text=Alex Rowan MP")
    assert "already support" in page.inner_text(".recipients")
    message = page.input_value("#message")
    assert message.startswith("Dear {target_name}") and "Thank you for supporting" in message
    assert "constituent in Aldershot" in message
    page.fill("#message", message + "\n\nSee you at the surgery on Friday.")
    page.fill("#name", "Ann Example")
    page.fill("#email", "ann@example.org")
    page.click("form.letter-form button[type=submit]")
    page.wait_for_url("**/thanks")
    assert "already supports this" in page.inner_text("main")
    [mail] = smtp_sink.wait_for(1, address="ann@example.org")
    token = TOKEN_IN_LINK.search(mail.text()).group(1)
    page.goto(f"{live_server}/confirm/{token}")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=is confirmed")
    [letter] = smtp_sink.wait_for(1, address="alex.rowan.mp@example.org", timeout=20)
    assert letter.text().startswith("Dear Alex Rowan MP,")
    assert "See you at the surgery on Friday." in letter.text()
    assert "ann@example.org" in str(letter.message["Reply-To"])
    with live_app.app_context():
        wait_for(lambda: db.session.scalar(select(LetterDelivery.status)) == "sent")
        db.session.remove()
    assert letter.subject == "Thank you for backing the supply-chain amendment"
    page.click("text=See your letter")
    page.wait_for_selector("text=Delivered")

    # The organiser sees the letter counted for the MP (folded by the worker) and the chart.
    with live_app.app_context():
        make_organiser("admin@example.org", admin=True)
        action_id = db.session.scalar(select(Action.id).where(Action.slug == MP_SLUG))
        db.session.remove()
    page.goto(f"{live_server}/organise/login")
    page.fill("#email", "admin@example.org")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/organise/")
    manage = f"{live_server}/organise/letters/{action_id}"

    def counted() -> bool:
        page.goto(manage)
        row = page.locator("#targets-table tr", has_text="Alex Rowan MP")
        return row.locator("td.delivered").inner_text() == "1"

    wait_for(counted, timeout=20)
    assert (
        page.locator("#targets-table tr", has_text="Alex Rowan MP")
        .locator("td.letters")
        .inner_text()
        == "1"
    )
    assert "Aldershot" in page.inner_text("#constituency-table")
    page.wait_for_function("document.querySelector('#chart-targets').width > 0")
    assert errors == []
