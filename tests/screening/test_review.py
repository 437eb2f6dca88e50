"""Issue 11, finding 8: too fast is kept for review, not dropped; stamps are bound, single-use
per address and bounded in age; volume suspects are held, then approved or rejected in bulk."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from petitions.audit.models import AuditEvent
from petitions.extensions import db
from petitions.mailer import services as mailer
from petitions.mailer.models import OutboxMessage
from petitions.screening.checks import read_form_stamp
from petitions.signing.models import Signature
from tests.screening.test_checks import URL, _form
from tests.support.factories import make_action, make_campaign
from tests.support.smtp import SmtpSink
from tests.support.web import csrf_from
from tests.support.workspace import login, make_organiser


@pytest.fixture
def action(factories: Any) -> Any:
    campaign = make_campaign(slug="save-the-park")
    action = make_action(campaign, slug="sign")
    db.session.commit()
    return action


def _rows() -> list[Signature]:
    db.session.expire_all()
    return list(db.session.scalars(select(Signature).order_by(Signature.id)))


def _outbox() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_autofill_in_under_3_s_still_gets_its_email(
    client: Any, action: Any, config: Any, smtp_sink: SmtpSink
) -> None:
    config(ABUSE_MIN_FILL_SECONDS=3.0)
    response = client.post(URL, data=_form(client, URL))  # posted at once: well under 3 s
    assert response.status_code == 303
    (row,) = _rows()
    assert row.suspect is False  # counted like any other
    assert row.review_reason.startswith("filled in ")  # the signal is kept
    assert _outbox() == 1
    mailer.drain()
    assert len(smtp_sink.to("ann@example.org")) == 1


def test_stamp_is_bound_to_the_session(app: Flask) -> None:
    # No app context around the requests: each client's CSRF secret is its own (an outer
    # context would share Flask-WTF's cached token between them).
    with app.app_context():
        make_action(make_campaign(slug="save-the-park"), slug="sign")
        db.session.commit()
        db.session.remove()
    first, second = app.test_client(), app.test_client()
    stamp = _form(first, URL)["started"]
    data = _form(second, URL, email="bo@example.org")
    assert data["csrf_token"] != _form(first, URL)["csrf_token"]
    assert second.post(URL, data={**data, "started": stamp}).status_code == 303
    with app.app_context():
        (row,) = _rows()
        assert row.review_reason == "form stamp from another session"
        assert row.suspect is False
        db.session.remove()


def test_stamp_is_single_use_per_address(client: Any, action: Any) -> None:
    data = _form(client, URL)
    stamp = data["started"]
    assert client.post(URL, data=data).status_code == 303
    again = client.post(URL, data=_form(client, URL, started=stamp))  # same address: fine
    assert again.status_code == 303
    replay = client.post(URL, data=_form(client, URL, email="bot2@example.org", started=stamp))
    assert replay.status_code == 303  # the same page: nothing tells the bot
    rows = _rows()
    assert [(r.email, r.suspect) for r in rows] == [
        ("ann@example.org", False),
        ("bot2@example.org", True),
    ]
    assert rows[1].review_reason.startswith("form stamp reused for another address")
    held_mail = select(func.count()).where(OutboxMessage.ref_id == rows[1].id)
    assert db.session.scalar(held_mail) == 0  # the held one is not emailed


def test_stamp_has_a_maximum_age(client: Any, action: Any, config: Any) -> None:
    data = _form(client, URL)
    config(ABUSE_STAMP_MAX_AGE_SECONDS=0.0)
    assert client.post(URL, data=data).status_code == 303
    (row,) = _rows()
    assert row.review_reason == "form stamp expired" and row.suspect is False
    assert _outbox() == 1


def test_missing_or_forged_stamps_are_flagged_not_dropped(
    app: Flask, client: Any, action: Any
) -> None:
    forged = TimestampSigner("not-our-key", salt="x").sign(b"f").decode()
    with app.test_request_context():
        assert read_form_stamp(forged).problem == "form stamp missing or forged"
        assert read_form_stamp(None).problem == "form stamp missing or forged"
    assert client.post(URL, data=_form(client, URL, started=forged)).status_code == 303
    (row,) = _rows()
    assert row.review_reason == "form stamp missing or forged" and row.suspect is False
    assert _outbox() == 1


# --- the organiser's review page -------------------------------------------------------------


def _held_setup(app: Flask, limits_on: Any, config: Any) -> tuple[int, list[int]]:
    config(ABUSE_IP_ACTION_SOFT=1, ABUSE_IP_ACTION_HARD=0)
    with app.app_context():
        ann = make_organiser("org@example.org")
        campaign = make_campaign(slug="save-the-park", owner_id=ann.id)
        action = make_action(campaign, slug="sign")
        db.session.commit()
        action_id = action.id
        db.session.remove()
    client = app.test_client()
    for n in range(4):
        client.post(URL, data=_form(client, URL, email=f"burst{n}@example.org"))
    with app.app_context():
        rows = _rows()
        held = [r.id for r in rows if r.suspect]
        assert len(held) == 3
        assert all("many signatures from this IP address" in r.review_reason for r in rows[1:])
        assert _outbox() == 1
        db.session.remove()
    return action_id, held


def test_organiser_sees_held_with_reason_and_approves_in_bulk(
    app: Flask, limits_on: Any, config: Any, smtp_sink: SmtpSink
) -> None:
    action_id, held = _held_setup(app, limits_on, config)
    org = app.test_client()
    login(org, "org@example.org")
    page = org.get(f"/organise/actions/{action_id}/review")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "burst1@example.org" in html and "many signatures from this IP address" in html
    token = csrf_from(html)

    assert (
        org.post(
            f"/organise/actions/{action_id}/review/approve", data={"ids": held[:2]}
        ).status_code
        == 400
    )  # no CSRF
    response = org.post(
        f"/organise/actions/{action_id}/review/approve",
        data={"csrf_token": token, "ids": held[:2]},
    )
    assert response.status_code == 303
    with app.app_context():
        rows = {r.id: r for r in _rows()}
        assert [rows[i].suspect for i in held] == [False, False, True]
        assert rows[held[0]].reviewed_at is not None
        assert _outbox() == 3  # the approved two get their confirmation email
        assert (
            db.session.scalar(
                select(func.count()).where(AuditEvent.event == "signatures.review.approve")
            )
            == 1
        )
        mailer.drain()
        db.session.remove()
    assert len(smtp_sink.to("burst1@example.org")) == 1
    assert smtp_sink.to("burst3@example.org") == []


def test_organiser_rejects_all_held(app: Flask, limits_on: Any, config: Any) -> None:
    action_id, held = _held_setup(app, limits_on, config)
    org = app.test_client()
    login(org, "org@example.org")
    token = csrf_from(org.get(f"/organise/actions/{action_id}/review").get_data(as_text=True))
    response = org.post(
        f"/organise/actions/{action_id}/review/reject", data={"csrf_token": token, "scope": "all"}
    )
    assert response.status_code == 303
    with app.app_context():
        rows = {r.id: r for r in _rows()}
        assert all(rows[i].invalidated_at is not None for i in held)
        assert _outbox() == 1
        db.session.remove()
    html = org.get(f"/organise/actions/{action_id}/review").get_data(as_text=True)
    assert "Nothing is held." in html


def test_review_page_is_only_for_the_campaigns_organisers(
    app: Flask, limits_on: Any, config: Any
) -> None:
    action_id, held = _held_setup(app, limits_on, config)
    with app.app_context():
        make_organiser("other@example.org")
    other = app.test_client()
    login(other, "other@example.org")
    assert other.get(f"/organise/actions/{action_id}/review").status_code == 404
