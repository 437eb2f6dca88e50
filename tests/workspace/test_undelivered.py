"""Issue 11, finding 1: the organiser sees which confirmation emails failed for good, and why."""

from __future__ import annotations

from flask import Flask

from petitions.extensions import db
from petitions.mailer import services as mailer
from tests.support.factories import (
    make_action,
    make_campaign,
    make_legacy_signature,
    make_signature,
)
from tests.support.smtp import SmtpSink
from tests.support.workspace import login, make_organiser


def test_signatures_page_lists_undelivered_confirmations_with_reasons(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        campaign = make_campaign(owner_id=ann.id)
        action = make_action(campaign)
        other = make_action(campaign)
        make_legacy_signature(action, "zoë@example.org")
        make_signature(action, "fine@example.org")
        make_signature(action, "bounced@example.org")
        make_legacy_signature(other, "josé@example.org")
        mailer.suppress("bounced@example.org", "smtp 550")
        db.session.commit()
        mailer.drain()
        ids = (campaign.id, action.id)
        db.session.remove()
    client = app.test_client()
    login(client, "ann@example.org")

    page = client.get(f"/organise/campaigns/{ids[0]}/actions/{ids[1]}/signatures")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2 confirmation emails could not be delivered" in html
    assert "zoë@example.org" in html and "cannot be used for email as it is written" in html
    assert "bounced@example.org" in html and "no longer mailed" in html
    assert "josé@example.org" not in html  # another action's


def test_no_notice_when_everything_was_delivered(app: Flask, smtp_sink: SmtpSink) -> None:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        campaign = make_campaign(owner_id=ann.id)
        action = make_action(campaign)
        make_signature(action, "fine@example.org")
        mailer.drain()
        ids = (campaign.id, action.id)
        db.session.remove()
    client = app.test_client()
    login(client, "ann@example.org")
    html = client.get(f"/organise/campaigns/{ids[0]}/actions/{ids[1]}/signatures").get_data(
        as_text=True
    )
    assert "could not be delivered" not in html
