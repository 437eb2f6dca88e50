"""End to end with real PostgreSQL, Redis, a real Celery worker (with beat) and SMTP sink."""

import time

import pytest
from sqlalchemy import func, select

from petitions import create_app
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally
from tests.conftest import wait_for
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.web import csrf_from, sign_via_form

pytestmark = pytest.mark.integration


@pytest.fixture
def demo_urls(app):
    with app.app_context():
        campaign = make_campaign(slug="pipeline")
        petition = make_action(campaign, slug="petition", goal=10)
        pledge = make_action(
            campaign,
            slug="pledge",
            kind="pledge",
            pledge_options=["I will boycott", "I will march"],
        )
        db.session.commit()
        return f"/c/{campaign.slug}", petition.id, pledge.id


def _public_count(client, campaign_url: str) -> list[str]:
    import re

    return re.findall(r"<strong>(\d+)</strong>", client.get(campaign_url).get_data(as_text=True))


def test_sign_email_confirm_count(live_app, smtp_sink, demo_urls):
    campaign_url, _, _ = demo_urls
    client = live_app.test_client()
    assert _public_count(client, campaign_url) == ["0", "0"]

    response = sign_via_form(client, campaign_url + "/petition", email="Dee@Example.org")
    assert response.status_code == 303
    response = sign_via_form(
        client, campaign_url + "/pledge", email="dee@example.org", pledge_option="I will march"
    )
    assert response.status_code == 303

    mails = smtp_sink.wait_for(2)
    assert len(mails) == 2
    tokens = []
    for mail in mails:
        assert mail.html() and mail.text()
        assert "does not subscribe you" in mail.text()
        tokens.append(TOKEN_IN_LINK.search(mail.text()).group(1))

    for token in tokens:
        page = client.get(f"/confirm/{token}")
        assert page.status_code == 200
        confirmed_at = time.monotonic()
        done = client.post(
            f"/confirm/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
        )
        assert done.status_code == 200 and b"is confirmed" in done.data

    wait_for(lambda: _public_count(client, campaign_url) == ["1", "1"], timeout=10)
    lag = time.monotonic() - confirmed_at
    print(f"count visible {lag:.2f}s after the last confirmation")


def test_signature_survives_redis_being_down(app, worker, smtp_sink, demo_urls, database_url):
    """Redis unreachable from the web process: the user still succeeds, the sweeper sends."""
    campaign_url, petition_id, _ = demo_urls
    broken = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL="redis://127.0.0.1:9/0",
        TASK_DISPATCH=True,
        RATELIMIT_ENABLED=False,
    )
    client = broken.test_client()
    started = time.monotonic()
    response = sign_via_form(client, campaign_url + "/petition", email="eve@example.org")
    assert response.status_code == 303
    assert time.monotonic() - started < 10, "a dead Redis must not hang the request"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    # Nobody nudged the worker: beat's sweeper finds the outbox row and sends it.
    smtp_sink.wait_for(1, address="eve@example.org", timeout=20)
    with app.app_context():
        wait_for(lambda: db.session.scalar(select(OutboxMessage.sent_at)) is not None)
        db.session.remove()
        wait_for(
            lambda: (db.session.remove(), db.session.get(ActionTally, petition_id))[1] is not None
        )
