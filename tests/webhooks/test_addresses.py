"""One address rule for webhooks, at registration and on the connected socket (issue 11, #10)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from petitions.extensions import db
from petitions.webhooks import addresses, jobs, services
from petitions.webhooks.models import WebhookEndpoint
from tests.support.workspace import csrf, login, make_organiser

REFUSED = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (CGNAT)
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "224.0.0.1",
    "240.0.0.1",
    "192.0.2.1",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64 prefix
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
]
ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("address", REFUSED)
def test_private_and_embedded_private_addresses_are_refused(address: str) -> None:
    assert addresses.refusal(address) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert addresses.refusal(address) is None


@pytest.fixture
def production_rules(app: Flask) -> Iterator[None]:
    saved = app.config.get("WEBHOOK_ALLOW_PRIVATE")
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE"] = saved


PRIVATE_URLS = [
    "https://[64:ff9b::a00:1]/hook",
    "https://[64:ff9b::7f00:1]:8443/hook",
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[::ffff:192.168.0.1]/hook",
    "https://[2002:a00:1::1]/hook",
    "https://localhost/hook",
    "https://crm.internal/hook",
    "https://2130706433/hook",  # 127.0.0.1 as one decimal number
]


def test_registration_form_refuses_private_addresses_with_a_clear_message(
    app: Flask, production_rules: None
) -> None:
    from tests.support import factories

    with app.app_context():
        ann = make_organiser("ann-hooks@example.org")
        campaign_id = factories.make_campaign(owner_id=ann.id).id
        db.session.commit()
    client = app.test_client()
    login(client, "ann-hooks@example.org")
    url = f"/organise/campaigns/{campaign_id}/webhooks"
    token = csrf(client, url)
    for target in PRIVATE_URLS:
        refused = client.post(url, data={"csrf_token": token, "url": target, "confirmed": "y"})
        assert refused.status_code == 400, target
        assert "public internet addresses" in refused.get_data(as_text=True), target
    accepted = client.post(
        url, data={"csrf_token": token, "url": "https://93.184.216.34/hook", "confirmed": "y"}
    )
    assert accepted.status_code == 201
    with app.app_context():
        assert [e.url for e in db.session.scalars(select(WebhookEndpoint))] == [
            "https://93.184.216.34/hook"
        ]


def test_the_service_refuses_the_same_addresses(app_ctx: None, production_rules: None) -> None:
    for target in PRIVATE_URLS:
        with pytest.raises(services.WebhookError, match="public internet addresses"):
            services.check_url(target)
    assert services.check_url("https://crm.example.org/hook")  # unresolvable now: delivery decides


def _attempt(url: str) -> jobs.Attempt:
    return jobs.Attempt(1, 1, url, b"{}", {"Content-Type": "application/json"}, 1)


def test_delivery_to_a_nat64_private_address_never_connects(
    app_ctx: None, production_rules: None, receiver: Any
) -> None:
    port = receiver.server.server_address[1]
    attempt = _attempt(f"http://[64:ff9b::7f00:1]:{port}/hook")
    jobs._post(attempt, timeout=5, allow_private=services._private_allowed())
    assert attempt.status is None
    assert (attempt.error or "").startswith("refused:"), attempt.error
    assert receiver.posts() == []


def test_dns_rebinding_is_caught_on_the_connected_address(
    app_ctx: None, production_rules: None, receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that answers with a public address first, then with loopback (the receiver)."""
    port = receiver.server.server_address[1]
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        first = not answers
        answers.append(host)
        return real("93.184.216.34" if first else "127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    # Registration sees the public answer and accepts the name ...
    assert addresses.check_host("rebind.example") is None
    # ... and delivery, which resolves again and gets loopback, refuses what it connected to.
    attempt = _attempt(f"http://rebind.example:{port}/hook")
    jobs._post(attempt, timeout=5, allow_private=services._private_allowed())
    assert len(answers) >= 2
    assert attempt.status is None
    assert (attempt.error or "").startswith("refused:"), attempt.error
    assert receiver.posts() == []


def test_delivery_outside_production_still_reaches_a_local_receiver(
    app_ctx: None, receiver: Any
) -> None:
    attempt = _attempt(receiver.url)
    jobs._post(attempt, timeout=5, allow_private=True)
    assert attempt.status == 200 and len(receiver.posts()) == 1
