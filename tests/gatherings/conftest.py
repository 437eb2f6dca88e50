"""Helpers for event tests: an event made through the service, RSVPs through the web form."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from typing import Any

import pytest

from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.gatherings import services
from petitions.mailer.services import claim_batch, send_batch
from tests.support.factories import TOKEN_IN_LINK, make_campaign
from tests.support.web import csrf_from

MANAGE_LINK = r"/rsvp/([A-Za-z0-9_.-]+)"


def event_input(**values: Any) -> services.EventInput:
    start = (utcnow() + timedelta(days=5)).replace(tzinfo=None, second=0, microsecond=0)
    values.setdefault("title", "Day of action")
    values.setdefault("description", "Bring a placard.")
    values.setdefault("starts_local", datetime(start.year, start.month, start.day, 10, 0))
    values.setdefault("ends_local", datetime(start.year, start.month, start.day, 12, 0))
    values.setdefault("timezone", "Europe/London")
    values.setdefault("venue", "Town hall steps")
    values.setdefault("online_url", "https://meet.example.org/secret-room")
    values.setdefault("capacity", 2)
    return services.EventInput(**values)


def make_event(campaign: Any = None, **values: Any) -> Any:
    campaign = campaign or make_campaign(slug="gather")
    action = services.create_event(campaign, event_input(**values))
    db.session.commit()
    return action


@pytest.fixture
def event(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        action = make_event()
        result = {"id": action.id, "url": f"/e/{action.campaign.slug}/{action.slug}"}
        db.session.remove()
    return result


def drain(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        while True:
            ids = claim_batch()
            if not ids:
                break
            send_batch(ids)
        db.session.remove()


def rsvp(client: Any, url: str, address: str, **fields: str) -> Any:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "name": address.split("@")[0].title(),
        "email": address,
        "country": "GB",
        "postcode": "SW1A 1AA",
    }
    data.update(fields)
    return client.post(url, data=data)


def confirm(app, client: Any, smtp_sink: Any, address: str) -> Any:  # type: ignore[no-untyped-def]
    drain(app)
    mails = smtp_sink.wait_for(1, address=address)
    token = TOKEN_IN_LINK.search(mails[-1].text()).group(1)
    page = client.get(f"/confirm/{token}")
    response = client.post(
        f"/confirm/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 200, response.status_code
    drain(app)
    return response


def rsvp_and_confirm(app, client, smtp_sink, url: str, address: str, **fields: str):  # type: ignore[no-untyped-def]
    assert rsvp(client, url, address, **fields).status_code == 303
    return confirm(app, client, smtp_sink, address)


def calendar_part(caught: Any) -> tuple[str, bytes] | None:
    """(Content-Type, payload) of the message's calendar attachment, if it has one."""
    message = email.message_from_bytes(caught.message.as_bytes(), policy=email.policy.default)
    for part in message.walk():
        if part.get_content_maintype() == "text" and part.get_content_subtype() == "calendar":
            return str(part["Content-Type"]), part.get_payload(decode=True)
    return None
