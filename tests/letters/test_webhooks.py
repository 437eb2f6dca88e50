"""Webhooks name letters as outreaches: ``outreach.confirmed`` / ``outreach.withdrawn`` (and
``outreach.invalidated``) fire for letter actions only, beside the ``signature.*`` events every
action has, with whom the letter goes to and how far each copy got (never its words)."""

from __future__ import annotations

import json

from sqlalchemy import select

from petitions.campaigns.models import Action, Campaign
from petitions.extensions import db
from petitions.letters import jobs
from petitions.signing.models import Signature
from petitions.supporters.services import withdraw
from petitions.webhooks import services
from petitions.webhooks.models import EVENTS, OUTREACH_EVENTS, WebhookDelivery
from tests.letters.conftest import COMPANY_URL, confirm, write


def _events(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        found = [
            (d.endpoint.url.rsplit("/", 1)[-1], d.event, json.loads(services.build_body(d)))
            for d in db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        ]
        db.session.remove()
    return found


def test_outreach_events_fire_for_letters_with_their_targets(app, client, smtp_sink, demo):
    with app.app_context():
        campaign = db.session.get(Action, demo["company"]).campaign
        services.register(campaign, "https://crm.example.org/all", list(EVENTS), None)
        services.register(campaign, "https://crm.example.org/outreach", list(OUTREACH_EVENTS), None)
        db.session.commit()
    assert write(client, COMPANY_URL, "ann@example.org", personal="My own words").status_code == 303
    confirm(app, client, smtp_sink, "ann@example.org")
    with app.app_context():
        jobs.run()
        db.session.remove()
    seen = _events(app)
    assert [(url, event) for url, event, _ in seen] == [
        ("all", "signature.confirmed"),
        ("all", "outreach.confirmed"),
        ("outreach", "outreach.confirmed"),
    ]
    body = seen[-1][2]
    assert body["action"]["kind"] == "letter"
    outreach = body["outreach"]
    assert [(t["name"], t["delivery"]) for t in outreach["targets"]] == [
        ("Jordan Vale", "sent"),
        ("Morgan Ellis", "sent"),
    ]
    assert "My own words" not in json.dumps(body)

    with app.app_context():
        ann = db.session.scalar(select(Signature).where(Signature.email == "ann@example.org"))
        assert withdraw(ann.email_normalised, ann.id)
        db.session.commit()
    assert [(u, e) for u, e, _ in _events(app)][3:] == [
        ("all", "signature.withdrawn"),
        ("all", "outreach.withdrawn"),
        ("outreach", "outreach.withdrawn"),
    ]


def test_outreach_events_never_fire_for_petitions(app, client, smtp_sink, demo):
    from tests.support.web import csrf_from

    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        services.register(campaign, "https://crm.example.org/all", list(EVENTS), None)
        db.session.commit()
        slug = campaign.slug
        petition = db.session.scalar(
            select(Action).where(Action.campaign_id == campaign.id, Action.kind == "petition")
        )
        url = f"/c/{slug}/{petition.slug}"
    page = client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "csrf_token": csrf_from(page),
            "name": "Bob",
            "email": "bob@example.org",
            "country": "GB",
            "postcode": "GU11 1AA",
        },
    )
    assert response.status_code == 303
    confirm(app, client, smtp_sink, "bob@example.org")
    assert [e for _, e, _ in _events(app)] == ["signature.confirmed"]
