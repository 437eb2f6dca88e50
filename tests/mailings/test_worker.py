"""With the real worker (and its beat) and the real SMTP sink."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from petitions.campaigns.models import CampaignUpdate
from petitions.extensions import db
from petitions.mailings import services
from petitions.mailings.models import DeliveryStatus, MailingDelivery
from petitions.supporters.models import CampaignOptOut, Supporter
from tests.mailings.conftest import wait_done
from tests.support import factories

pytestmark = pytest.mark.integration

UNSUBSCRIBE = re.compile(r"^<(http://localhost(/u/[A-Za-z0-9_.-]+))>$")


def _mailing_for(app, audience, emails: list[str], title: str = "Update") -> int:
    with app.app_context():
        campaign = factories.make_campaign()
        audience(campaign, emails)
        update = CampaignUpdate(campaign_id=campaign.id, title=title, body="News.")
        db.session.add(update)
        db.session.commit()
        mailing, _ = services.request_update_mailing(update)
        db.session.commit()
        mailing_id = mailing.id
        db.session.remove()
    return mailing_id


def _start(app, mailing_id: int) -> None:
    app.extensions["celery"].send_task(services.SEND_TASK, args=[mailing_id])


def test_headers_and_one_click_unsubscribe_without_cookies(live_app, audience, smtp_sink):
    app = live_app
    mailing_id = _mailing_for(app, audience, ["ann@example.org", "bob@example.org"])
    _start(app, mailing_id)
    wait_done(app, mailing_id)
    [message] = smtp_sink.to("ann@example.org")
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    match = UNSUBSCRIBE.match(str(message.message["List-Unsubscribe"]))
    assert match, message.message["List-Unsubscribe"]
    path = match.group(2)
    assert match.group(1) in message.text() and match.group(1) in message.html()

    # A GET (a link scanner) shows a button and changes nothing.
    browser = app.test_client()
    page = browser.get(path)
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(CampaignOptOut)) is None
        db.session.remove()

    # The mail provider's one-click POST: no cookies, no CSRF token. Idempotent.
    for _ in range(2):
        provider = app.test_client(use_cookies=False)
        response = provider.post(
            path,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
    with app.app_context():
        supporter = db.session.scalar(
            select(Supporter).where(Supporter.email_normalised == "ann@example.org")
        )
        assert supporter is not None and supporter.unsubscribed_all_at is None
        assert db.session.get(CampaignOptOut, (supporter.id, _campaign_of(mailing_id)))
        db.session.remove()

    # The next update of that campaign reaches Bob only.
    with app.app_context():
        campaign_id = _campaign_of(mailing_id)
        update = CampaignUpdate(campaign_id=campaign_id, title="Second", body="More news.")
        db.session.add(update)
        db.session.commit()
        second, _ = services.request_update_mailing(update)
        db.session.commit()
        second_id = second.id
        db.session.remove()
    _start(app, second_id)
    wait_done(app, second_id)
    assert len(smtp_sink.to("ann@example.org")) == 1
    assert len(smtp_sink.to("bob@example.org")) == 2


def _campaign_of(mailing_id: int) -> int:
    from petitions.mailings.models import Mailing

    return db.session.get(Mailing, mailing_id).campaign_id


def test_bounced_address_gets_nothing_more(live_app, audience, smtp_sink):
    app = live_app
    first = _mailing_for(app, audience, ["bounce@example.org"], "First")
    smtp_sink.rcpt_replies.append("550 5.1.1 No such user")
    _start(app, first)
    wait_done(app, first)
    with app.app_context():
        [row] = db.session.scalars(
            select(MailingDelivery).where(MailingDelivery.mailing_id == first)
        )
        assert (row.status, row.error) == (DeliveryStatus.FAILED, "smtp 550")
        db.session.remove()
    second = _mailing_for(app, audience, ["bounce@example.org", "fine@example.org"], "Second")
    _start(app, second)
    wait_done(app, second)
    assert smtp_sink.to("bounce@example.org") == []
    assert len(smtp_sink.to("fine@example.org")) == 1


def test_killed_worker_resumes_and_nobody_gets_two(live_app, worker, audience, smtp_sink):
    app = live_app
    emails = [f"person{i:03d}@example.org" for i in range(80)]
    mailing_id = _mailing_for(app, audience, emails)
    _start(app, mailing_id)
    smtp_sink.wait_for(20, timeout=30)
    worker.kill()
    received_before = len(smtp_sink.messages)
    assert received_before < len(emails), "the kill must interrupt the mailing"
    worker.start()
    wait_done(app, mailing_id, timeout=60)

    copies = Counter(m.envelope_to[0] for m in smtp_sink.messages)
    assert max(copies.values()) == 1, [e for e, n in copies.items() if n > 1]
    with app.app_context():
        rows = db.session.scalars(
            select(MailingDelivery).where(MailingDelivery.mailing_id == mailing_id)
        ).all()
        db.session.remove()
    status = {row.email_normalised: row.status for row in rows}
    assert len(status) == len(emails)
    sent = {e for e, s in status.items() if s == DeliveryStatus.SENT}
    unknown = {e for e, s in status.items() if s == DeliveryStatus.UNKNOWN}
    assert sent | unknown == set(emails)
    assert len(unknown) <= 1, "at most the one message in flight when the worker died"
    assert sent <= set(copies)
    assert set(copies) <= sent | unknown
