"""Webhooks: rows written with the confirmation, signed delivery, retries, workspace pages."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from petitions.extensions import db
from petitions.webhooks import events, jobs, services
from petitions.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import wait_for
from tests.support.factories import TOKEN_IN_LINK
from tests.support.smtp import SmtpSink
from tests.support.web import csrf_from
from tests.support.workspace import csrf, login, make_organiser


def _endpoint(campaign: Any, url: str, events_: list[str] | None = None) -> WebhookEndpoint:
    endpoint = services.register(campaign, url, events_ or list(events.EVENTS), None)
    db.session.commit()
    return endpoint


def _deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_signing_and_body_verification() -> None:
    body = b'{"event":"signature.confirmed"}'
    header = services.sign_body("whsec_test", body)
    assert header.startswith("sha256=") and services.verify("whsec_test", body, header)
    assert not services.verify("whsec_other", body, header)
    assert not services.verify("whsec_test", body + b" ", header)


def test_confirming_writes_deliveries_in_the_same_transaction(
    client: Any, factories: Any, smtp_sink: SmtpSink
) -> None:
    from datetime import timedelta

    from petitions.core.tokens import issue_token
    from petitions.signing import services as signing

    campaign = factories.make_campaign()
    action = factories.make_action(campaign)
    _endpoint(campaign, "https://crm.example.org/a")
    _endpoint(campaign, "https://crm.example.org/b", [events.SIGNATURE_WITHDRAWN])
    other = factories.make_action()
    _endpoint(other.campaign, "https://elsewhere.example.org/")
    signature_id = factories.make_signature(action)
    token = issue_token(signing.CONFIRM_PURPOSE, signature_id, timedelta(days=1))
    db.session.commit()

    # Rolled back: no deliveries.
    signing.confirm(token)
    db.session.rollback()
    assert _deliveries() == []

    signing.confirm(token)
    db.session.commit()
    rows = _deliveries()
    assert [(r.event, r.endpoint.url) for r in rows] == [
        ("signature.confirmed", "https://crm.example.org/a")
    ]
    assert re.fullmatch(r"[0-9a-f-]{36}", rows[0].idempotency_key)
    # Confirming again changes nothing.
    signing.confirm(token)
    db.session.commit()
    assert len(_deliveries()) == 1

    signature = db.session.get(signing.Signature, signature_id)
    assert events.signature_withdrawn(signature) == 2
    assert events.emit_for_ids(events.SIGNATURE_INVALIDATED, [signature_id]) == 1
    db.session.commit()
    assert len(_deliveries()) == 4


def test_registration_refuses_bad_addresses(factories: Any) -> None:
    campaign = factories.make_campaign()
    for url in ("ftp://x.example", "notaurl", "https://user:pw@x.example/", "https://"):
        with pytest.raises(services.WebhookError):
            services.register(campaign, url, list(events.EVENTS), None)
    with pytest.raises(services.WebhookError):
        services.register(campaign, "https://x.example", [], None)


@pytest.mark.integration
def test_confirmed_signature_is_posted_signed_to_a_real_receiver(
    live_app: Flask, client: Any, factories: Any, smtp_sink: SmtpSink, receiver: Any
) -> None:
    campaign = factories.make_campaign()
    action = factories.make_action(campaign)
    endpoint = _endpoint(campaign, receiver.url)
    secret = endpoint.secret
    db.session.commit()

    # Sign through the OSDI helper, confirm through the emailed link.
    response = client.post(
        f"/api/osdi/v1/petitions/{action.id}/signatures",
        json={
            "person": {
                "given_name": "Hook",
                "family_name": "Tester",
                "email_addresses": [{"address": "hook@example.org"}],
                "postal_addresses": [{"postal_code": "SW1A 1AA", "country": "GB"}],
            }
        },
    )
    assert response.status_code == 200
    mail = smtp_sink.wait_for(1, address="hook@example.org")[0]
    token = TOKEN_IN_LINK.search(mail.text())
    assert token
    confirm_url = f"/confirm/{token.group(1)}"
    page = client.get(confirm_url).get_data(as_text=True)
    assert client.post(confirm_url, data={"csrf_token": csrf_from(page)}).status_code == 200

    posts = wait_for(lambda: receiver.posts(), timeout=20)
    post = posts[0]
    assert post.headers["X-Petitions-Event"] == "signature.confirmed"
    assert services.verify(secret, post.body, post.headers["X-Petitions-Signature"])
    payload = json.loads(post.body)
    assert payload["event"] == "signature.confirmed"
    assert payload["idempotency_key"] == post.headers["Idempotency-Key"]
    person = payload["signature"]["_embedded"]["osdi:person"]
    assert person["email_addresses"][0]["address"] == "hook@example.org"
    assert payload["signature"]["petitions:status"] == "confirmed"
    assert payload["action"]["slug"] == action.slug
    delivered = wait_for(lambda: [d for d in _deliveries() if d.delivered_at is not None])
    assert delivered[0].attempts == 1 and delivered[0].last_status == 200


@pytest.mark.integration
def test_failed_deliveries_retry_with_the_same_key_then_give_up(
    live_app: Flask, factories: Any, receiver: Any
) -> None:
    campaign = factories.make_campaign()
    action = factories.make_action(campaign)
    _endpoint(campaign, receiver.url)
    down = _endpoint(campaign, "http://127.0.0.1:9/unreachable")  # nothing listens on port 9
    receiver.statuses = [500, 503]
    signature_id = factories.make_signature(action)
    from petitions.signing.models import Signature

    events.signature_confirmed(db.session.get(Signature, signature_id))
    db.session.commit()

    posts = wait_for(lambda: len(receiver.posts()) >= 3 and receiver.posts(), timeout=30)
    keys = {p.headers["Idempotency-Key"] for p in posts}
    assert len(keys) == 1 and len(posts) == 3
    ok = wait_for(
        lambda: [d for d in _deliveries() if d.endpoint_id != down.id and d.delivered_at],
        timeout=20,
    )
    assert ok[0].attempts == 3 and ok[0].last_status == 200

    failed = wait_for(
        lambda: [d for d in _deliveries() if d.endpoint_id == down.id and d.failed_at],
        timeout=30,
    )
    assert failed[0].attempts == 4 and failed[0].last_error


def test_workspace_page_lists_endpoints_and_deliveries_for_own_campaigns_only(app: Flask) -> None:
    from tests.support import factories

    with app.app_context():
        ann = make_organiser("ann-org@example.org")
        bob = make_organiser("bob-org@example.org")
        campaign_id = factories.make_campaign(owner_id=ann.id).id
        db.session.commit()
        emails = ann.email, bob.email
    client = app.test_client()
    login(client, emails[0])
    url = f"/organise/campaigns/{campaign_id}/webhooks"
    token = csrf(client, url)
    created = client.post(
        url, data={"csrf_token": token, "url": "https://crm.example.org/hook", "confirmed": "y"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)[:2000]
    assert created.headers["Cache-Control"] == "no-store"
    page = created.get_data(as_text=True)
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        assert endpoint is not None and endpoint.secret in page  # shown for the receiver
        assert endpoint.events == ["signature.confirmed"]
        endpoint_id = endpoint.id
        # A failed delivery shows on the page.
        db.session.add(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event="signature.confirmed",
                signature_id=1,
                idempotency_key="k-1",
                attempts=3,
                last_status=500,
                last_error="HTTP 500",
            )
        )
        db.session.commit()
    listing = client.get(url).get_data(as_text=True)
    assert "https://crm.example.org/hook" in listing and "HTTP 500" in listing

    bad = client.post(url, data={"csrf_token": token, "url": "ftp://nope", "confirmed": "y"})
    assert bad.status_code == 400
    assert client.post(url, data={"url": "https://x.example"}).status_code == 400  # no CSRF

    other = app.test_client()
    login(other, emails[1])
    assert other.get(url).status_code == 404
    bob_token = csrf(other, "/organise/api-tokens")
    deleting = other.post(f"{url}/{endpoint_id}/delete", data={"csrf_token": bob_token})
    assert deleting.status_code == 404

    paused = client.post(f"{url}/{endpoint_id}/active", data={"csrf_token": token})
    assert paused.status_code == 303
    with app.app_context():
        found = db.session.get(WebhookEndpoint, endpoint_id)
        assert found is not None and found.active is False


def test_production_refuses_plain_http_and_private_addresses(app: Flask, app_ctx: None) -> None:
    saved = app.config.get("WEBHOOK_ALLOW_PRIVATE")
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        with pytest.raises(services.WebhookError):
            services.check_url("http://crm.example.org/hook")
        assert services.check_url("https://crm.example.org/hook")
        attempt = jobs.Attempt(1, 1, "https://127.0.0.1:9/hook", b"{}", {}, 1)
        jobs._post(attempt, timeout=1, allow_private=services._private_allowed())
        assert attempt.status is None
        assert attempt.error == "refused: the address is this machine (loopback)"
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = saved
