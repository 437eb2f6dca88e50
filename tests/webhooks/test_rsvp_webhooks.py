"""RSVP webhooks: confirmed (with the place's status), cancelled and promoted, signed and sent
by the real worker to a real receiver; sensitive answers only to an endpoint that opted in."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from petitions.extensions import db
from petitions.gatherings import services as gatherings
from petitions.webhooks import services
from petitions.webhooks.models import RSVP_EVENTS
from tests.conftest import wait_for
from tests.gatherings.conftest import MANAGE_LINK, make_event, rsvp
from tests.support.factories import TOKEN_IN_LINK, make_campaign
from tests.support.smtp import SmtpSink
from tests.support.web import csrf_from

pytestmark = pytest.mark.integration


def _confirm(client: Any, smtp_sink: SmtpSink, address: str) -> None:
    mail = smtp_sink.wait_for(1, address=address)[0]
    url = f"/confirm/{TOKEN_IN_LINK.search(mail.text()).group(1)}"
    page = client.get(url).get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf_from(page)}).status_code == 200


def _events(receiver: Any, path: str) -> list[dict[str, Any]]:
    return [json.loads(p.body) for p in receiver.posts() if p.path == path]


def test_rsvp_events_reach_a_real_receiver(
    live_app: Flask, client: Any, smtp_sink: SmtpSink, receiver: Any
) -> None:
    with live_app.app_context():
        campaign = make_campaign(slug="gather")
        action = make_event(
            campaign,
            capacity=1,
            questions=gatherings.parse_questions("Bringing a guest?\n!Access needs"),
        )
        url = f"/e/gather/{action.slug}"
        plain = services.register(campaign, receiver.url, list(RSVP_EVENTS), None)
        services.register(
            campaign, receiver.url + "-sensitive", list(RSVP_EVENTS), None, include_sensitive=True
        )
        secret = plain.secret
        db.session.commit()
        db.session.remove()

    answers = {"q_bringing_a_guest": "Yes", "q_access_needs": "Step-free route"}
    assert rsvp(client, url, "ann@example.org", **answers).status_code == 303
    _confirm(client, smtp_sink, "ann@example.org")
    assert rsvp(client, url, "bob@example.org").status_code == 303
    _confirm(client, smtp_sink, "bob@example.org")

    posts = wait_for(lambda: len(_events(receiver, "/hook")) >= 2 or None, timeout=20)
    assert posts
    first = next(p for p in receiver.posts() if p.path == "/hook")
    assert first.headers["X-Petitions-Event"] == "rsvp.confirmed"
    assert services.verify(secret, first.body, first.headers["X-Petitions-Signature"])
    confirmed = sorted(
        (e["rsvp"]["status"], e["signature"]["_embedded"]["osdi:person"]["given_name"])
        for e in _events(receiver, "/hook")
        if e["event"] == "rsvp.confirmed"
    )
    assert [status for status, _ in confirmed] == ["going", "waitlisted"]
    ann = next(e for e in _events(receiver, "/hook") if e["rsvp"]["status"] == "going")
    assert ann["rsvp"]["answers"] == {"bringing_a_guest": "Yes"}
    assert "sensitive_answers" not in ann["rsvp"] and "Step-free" not in json.dumps(ann)
    assert "secret-room" not in json.dumps(ann), "the online link is for attendees only"
    assert ann["rsvp"]["event"]["timezone"] == "Europe/London"
    wait_for(lambda: len(_events(receiver, "/hook-sensitive")) >= 2 or None, timeout=20)
    opted_ann = next(
        e for e in _events(receiver, "/hook-sensitive") if e["rsvp"]["status"] == "going"
    )
    assert opted_ann["rsvp"]["sensitive_answers"] == {"access_needs": "Step-free route"}

    # Ann cancels from her email: rsvp.cancelled for her, rsvp.promoted for Bob.
    going = wait_for(
        lambda: [m for m in smtp_sink.to("ann@example.org") if "/rsvp/" in m.text()] or None
    )
    token = re.search(MANAGE_LINK, going[-1].text()).group(1)
    manage = client.get(f"/rsvp/{token}")
    cancelled = client.post(
        f"/rsvp/{token}", data={"csrf_token": csrf_from(manage.get_data(as_text=True))}
    )
    assert cancelled.status_code == 303
    later = wait_for(
        lambda: (
            {e["event"] for e in _events(receiver, "/hook")}
            >= {
                "rsvp.cancelled",
                "rsvp.promoted",
            }
            or None
        ),
        timeout=20,
    )
    assert later
    promoted = next(e for e in _events(receiver, "/hook") if e["event"] == "rsvp.promoted")
    assert promoted["rsvp"]["status"] == "going"
    assert promoted["signature"]["_embedded"]["osdi:person"]["given_name"] == "Bob"
    keys = [p.headers["Idempotency-Key"] for p in receiver.posts()]
    assert len(keys) == len(set(keys)), "one key per event and endpoint"
