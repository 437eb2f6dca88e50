"""Donation asks: shown on the thank-you and confirmed pages, clicks counted through our own
redirect to the stored, allow-listed page only (never an open redirect), views and clicks on
the dashboard."""

from __future__ import annotations

import pytest
from flask import Flask

from petitions.audit.models import AuditEvent
from petitions.campaigns.models import CampaignStatus
from petitions.donations.models import DonationAsk, DonationHit
from petitions.extensions import db
from petitions.mailer.services import claim_batch, send_batch
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.web import csrf_from, sign_via_form
from tests.support.workspace import csrf, login, make_organiser

DONATE = "https://www.justgiving.com/campaign/clean-rivers?utm=petition"


def _setup(app: Flask) -> tuple[int, int, str]:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        make_organiser("eve@example.org")
        campaign = make_campaign(owner_id=ann.id)
        action = make_action(campaign)
        db.session.commit()
        return campaign.id, action.id, f"/c/{campaign.slug}/{action.slug}"


def _save(client, campaign_id: int, **fields: str):  # type: ignore[no-untyped-def]
    page = f"/organise/campaigns/{campaign_id}/donations"
    data = {
        "csrf_token": csrf(client, page),
        "scope": "",
        "text": "Can you chip in to keep the campaign going?",
        "amounts": "5, 10, £25",
        "url": DONATE,
    }
    data.update(fields)
    return client.post(page, data=data)


def _hits(app: Flask) -> list[tuple[str, str, int | None]]:
    with app.app_context():
        return [
            (h.kind, h.source, h.amount)
            for h in db.session.scalars(db.select(DonationHit).order_by(DonationHit.id))
        ]


def test_ask_is_shown_counted_and_redirects_to_the_stored_page(
    app: Flask, smtp_sink: object
) -> None:
    campaign_id, action_id, public = _setup(app)
    organiser = app.test_client()
    login(organiser, "ann@example.org")
    assert _save(organiser, campaign_id).status_code == 303
    with app.app_context():
        ask = db.session.scalar(db.select(DonationAsk))
        assert ask.amounts == [5, 10, 25] and ask.url == DONATE
        assert "donation.ask" in set(db.session.scalars(db.select(AuditEvent.event)))
        ask_id = ask.id

    supporter = app.test_client()
    signed = sign_via_form(supporter, public)
    assert signed.status_code == 303
    body = supporter.get(signed.location).get_data(as_text=True)
    assert "Can you chip in" in body and f"/give/{ask_id}?" in body and "£25" in body
    assert DONATE not in body  # the page links to our endpoint, not straight out
    assert _hits(app) == [("view", "thanks", None)]

    click = supporter.get(f"/give/{ask_id}?from=thanks&amount=10&action={action_id}")
    assert click.status_code == 303 and click.location == DONATE
    assert click.headers["Referrer-Policy"] == "no-referrer"
    assert _hits(app)[-1] == ("click", "thanks", 10)

    # The confirmed page shows it too.
    with app.app_context():
        send_batch(claim_batch())
    token = TOKEN_IN_LINK.search(smtp_sink.wait_for(1)[0].text()).group(1)  # type: ignore[attr-defined]
    preview = supporter.get(f"/confirm/{token}")
    confirmed = supporter.post(
        f"/confirm/{token}", data={"csrf_token": csrf_from(preview.get_data(as_text=True))}
    )
    assert "Can you chip in" in confirmed.get_data(as_text=True)
    assert _hits(app)[-1] == ("view", "confirmed", None)

    dashboard = organiser.get(f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard")
    text = dashboard.get_data(as_text=True)
    assert '<strong id="ask-views">2</strong>' in text
    assert '<strong id="ask-clicks">1</strong>' in text
    assert "thanks: 1 / 1" in text


def test_an_action_ask_overrides_the_campaign_ask(app: Flask) -> None:
    campaign_id, action_id, public = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    _save(client, campaign_id, text="Campaign-wide ask")
    _save(client, campaign_id, scope=str(action_id), text="This action's own ask")
    with app.app_context():
        from petitions.campaigns.models import Action
        from petitions.donations.queries import ask_for

        assert ask_for(db.session.get(Action, action_id)).text == "This action's own ask"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "http://www.justgiving.com/x"}, "Use an https:// address"),
        ({"url": "https://evil.example/steal"}, "allowed donation sites"),
        ({"url": "https://www.justgiving.com@evil.example/"}, "allowed donation sites"),
        ({"url": "https://www.justgiving.com:8443/x"}, "allowed donation sites"),
        ({"url": "https://www.justgiving.com/x\r\nSet-Cookie: a"}, "allowed donation sites"),
        ({"url": "javascript:alert(1)"}, "allowed donation sites"),
        ({"amounts": "5, ten"}, "whole amounts"),
        ({"amounts": "1,2,3,4,5,6,7"}, "at most 6"),
        ({"amounts": "99999999999999999"}, "whole amounts"),
        ({"text": "x" * 501}, "Field cannot be longer than 500"),
        ({"text": ""}, "Write the ask"),
        ({"scope": "999999999999999999999"}, "Not a valid choice"),
    ],
)
def test_bad_asks_are_a_clear_400(app: Flask, fields: dict, message: str) -> None:
    campaign_id, _, _ = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    answer = _save(client, campaign_id, **fields)
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DonationAsk)) == 0


def test_the_redirect_is_never_open(app: Flask) -> None:
    campaign_id, action_id, _ = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    _save(client, campaign_id)
    with app.app_context():
        ask_id = db.session.scalar(db.select(DonationAsk.id))
    anyone = app.test_client()
    good = f"/give/{ask_id}?from=ladder"
    # Whatever is added, the only place it goes is the stored page.
    hostile = anyone.get(good + "&url=https://evil.example&next=//evil.example")
    assert hostile.status_code == 303 and hostile.location == DONATE
    for bad in (
        f"/give/{ask_id}",  # no source
        f"/give/{ask_id}?from=https://evil.example",
        f"/give/{ask_id}?from=thanks%0d%0aSet-Cookie:x",
        f"/give/{ask_id}?from=thanks&amount=7",  # not a suggested amount
        f"/give/{ask_id}?from=thanks&amount=99999999999999999999",
        f"/give/{ask_id}?from=thanks&action=abc",
        f"/give/{ask_id}?from=thanks&action=99999",  # not this campaign's
    ):
        assert anyone.get(bad).status_code == 400, bad
    for missing in ("/give/99999999999999999999999", "/give/0", "/give/%0d%0a", "/give/999"):
        assert anyone.get(missing).status_code == 404, missing
    # A host taken off the allow-list stops working at once; a draft's ask is not there.
    hosts = app.config["DONATION_HOSTS"]
    app.config["DONATION_HOSTS"] = "donorbox.org"
    try:
        assert anyone.get(good).status_code == 404
    finally:
        app.config["DONATION_HOSTS"] = hosts
    with app.app_context():
        campaign = db.session.get(DonationAsk, ask_id).campaign
        campaign.status = CampaignStatus.DRAFT.value
        db.session.commit()
    assert anyone.get(good).status_code == 404
    assert [h for h in _hits(app) if h[0] == "click"] == [("click", "ladder", None)]


def test_only_the_campaigns_organisers_set_asks(app: Flask) -> None:
    campaign_id, _, _ = _setup(app)
    eve = app.test_client()
    login(eve, "eve@example.org")
    assert eve.get(f"/organise/campaigns/{campaign_id}/donations").status_code == 404
    ann = app.test_client()
    login(ann, "ann@example.org")
    page = f"/organise/campaigns/{campaign_id}/donations"
    assert ann.post(page, data={"text": "x", "url": DONATE}).status_code == 400  # no CSRF
