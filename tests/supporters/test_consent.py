"""Current consent everywhere (issue 11, finding 2): export, API and mailing audience agree.

Before: the CSV export and the OSDI person said "consenting" from the tick at signing time, so
someone who had unsubscribed (one-click or preferences) was still exported as consenting.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from petitions.core.tokens import issue_token
from petitions.exports import jobs as export_jobs
from petitions.exports import services as exports
from petitions.exports.models import ExportJob
from petitions.extensions import db
from petitions.mailer.services import suppress
from petitions.mailings.models import Mailing, MailingKind
from petitions.mailings.notifications import unsubscribe_token
from petitions.mailings.recipients import recipients_query
from petitions.signing import services as signing
from petitions.supporters import consent
from petitions.supporters.models import ConsentEvent
from petitions.supporters.services import erase
from tests.support import factories as f
from tests.support.web import csrf_from
from tests.support.workspace import login, make_organiser

EMAIL = "carla@example.org"


def confirm_via_link(action: Any, email: str, **values: Any) -> int:
    """Sign and confirm through the confirmation service (the events fire as in real life)."""
    signature_id = f.make_signature(action, email, **values)
    raw = issue_token(signing.CONFIRM_PURPOSE, signature_id, timedelta(days=1))
    db.session.commit()
    assert signing.confirm(raw).state is signing.ConfirmState.CONFIRMED
    db.session.commit()
    return signature_id


@pytest.fixture
def export_dir(app: Any, tmp_path: Path) -> Any:
    app.config["EXPORT_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["EXPORT_DIR"] = ""


class Views:
    """What the export, the OSDI API and a mailing audience say about one person."""

    def __init__(self, app: Any, organiser: Any, token: str, campaign: Any, action: Any) -> None:
        self.app, self.organiser, self.token = app, organiser, token
        self.campaign, self.action = campaign, action

    def export(self, email: str) -> str:
        job = ExportJob(
            organiser_id=self.organiser.id,
            action_id=self.action.id,
            status="queued",
            expires_at=exports.utcnow() + timedelta(hours=1),
        )
        db.session.add(job)
        db.session.commit()
        name = export_jobs.run_export(job.id)
        assert name is not None
        body = (exports.export_dir() / name).read_text(encoding="utf-8-sig")
        rows = {r["email"]: r for r in csv.DictReader(io.StringIO(body))}
        return rows[email]["consent_to_contact"]

    def api(self, email: str) -> str:
        client = self.app.test_client()
        listing = client.get(
            f"/api/osdi/v1/petitions/{self.action.id}/signatures",
            headers={"OSDI-API-Token": self.token},
        )
        assert listing.status_code == 200
        people = [
            s["_embedded"]["osdi:person"]["email_addresses"][0]
            for s in listing.get_json()["_embedded"]["osdi:signatures"]
        ]
        statuses = {p["address"]: p["status"] for p in people}
        one = [
            s
            for s in listing.get_json()["_embedded"]["osdi:signatures"]
            if s["_embedded"]["osdi:person"]["email_addresses"][0]["address"] == email
        ][0]
        single = client.get(
            one["_links"]["self"]["href"].replace("http://localhost", ""),
            headers={"OSDI-API-Token": self.token},
        ).get_json()
        assert single["_embedded"]["osdi:person"]["email_addresses"][0]["status"] == statuses[email]
        return statuses[email]

    def audience(self) -> set[str]:
        probe = Mailing(campaign_id=self.campaign.id, kind=MailingKind.UPDATE.value)
        return {row[0] for row in db.session.execute(recipients_query(probe))}

    def all(self, email: str) -> tuple[str, str, bool]:
        return self.export(email), self.api(email), email in self.audience()


@pytest.fixture
def views(app: Any, factories: Any, export_dir: Path) -> Views:
    from petitions.api.tokens import create_token

    organiser = make_organiser("owner@example.org")
    campaign = factories.make_campaign(owner_id=organiser.id)
    action = factories.make_action(campaign)
    _, raw = create_token(organiser, "test")
    db.session.commit()
    return Views(app, organiser, raw, campaign, action)


CONSENTING = ("yes", "subscribed", True)
NOT_CONSENTING = ("no", "unsubscribed", False)


def test_one_click_unsubscribe_then_preferences_reconsent(app, client, views, signed_in):
    confirm_via_link(views.action, EMAIL, wants_updates=True)
    confirm_via_link(views.action, "quiet@example.org", wants_updates=False)
    assert views.all(EMAIL) == CONSENTING
    assert views.all("quiet@example.org") == NOT_CONSENTING

    # One-click unsubscribe from an update email (the real link and its POST).
    mailing = Mailing(
        campaign_id=views.campaign.id, kind="update", dedupe_key="u1", subject="News", total=1
    )
    db.session.add(mailing)
    db.session.flush()
    from petitions.mailings.models import MailingDelivery

    delivery = MailingDelivery(
        mailing_id=mailing.id, email_normalised=EMAIL, status="sent", attempts=1
    )
    db.session.add(delivery)
    db.session.commit()
    assert client.post(f"/u/{unsubscribe_token(delivery.id)}").status_code == 200
    assert views.all(EMAIL) == NOT_CONSENTING

    # Re-consent on the preferences page of My actions.
    signed_in(EMAIL)
    page = client.get("/my").get_data(as_text=True)
    assert "no updates now" in page and "one-click unsubscribe" in page
    saved = client.post(
        "/my/preferences",
        data={
            "csrf_token": csrf_from(page),
            "all_email": "y",
            f"campaign-{views.campaign.id}": "y",
        },
    )
    assert saved.status_code == 303
    assert views.all(EMAIL) == CONSENTING

    # Preferences can also stop it (everything), and the history shows each step.
    page = client.get("/my").get_data(as_text=True)
    client.post("/my/preferences", data={"csrf_token": csrf_from(page)})
    assert views.all(EMAIL) == NOT_CONSENTING
    steps = [(i.kind, i.source, i.campaign) for i in consent.history(EMAIL)]
    assert steps == [
        ("granted", "signature", views.campaign.title),
        ("withdrawn", "one-click unsubscribe", views.campaign.title),
        ("granted", "preferences", views.campaign.title),
        ("withdrawn", "preferences", None),
        ("withdrawn", "preferences", views.campaign.title),
    ]
    mine = client.get("/my/data.json").get_json()
    assert [e["source"] for e in mine["consent_history"]][:2] == [
        "signature",
        "one-click unsubscribe",
    ]
    assert mine["consent_history"][0]["consent_version"] is not None


def test_signing_again_with_the_tick_is_fresh_consent(views, factories):
    confirm_via_link(views.action, EMAIL, wants_updates=True)
    from petitions.supporters.services import unsubscribe

    unsubscribe(EMAIL, None)
    db.session.commit()
    assert views.all(EMAIL) == NOT_CONSENTING
    other_campaign = factories.make_campaign()
    confirm_via_link(factories.make_action(other_campaign), EMAIL, wants_updates=True)
    assert views.all(EMAIL) == NOT_CONSENTING  # a tick elsewhere is not consent here
    assert consent.consents_now(EMAIL, other_campaign.id)

    confirm_via_link(factories.make_action(views.campaign), EMAIL, wants_updates=True)
    assert views.all(EMAIL) == CONSENTING


def test_bounce_withdrawal_and_erasure_end_consent(views, factories):
    confirm_via_link(views.action, "bounce@example.org", wants_updates=True)
    suppress("bounce@example.org", "smtp 550")
    db.session.commit()
    assert views.all("bounce@example.org") == NOT_CONSENTING
    assert [i.kind for i in consent.history("bounce@example.org")] == ["granted", "suppressed"]

    # Withdrawing the signature that carried the tick ends the consent it gave.
    other = factories.make_action(views.campaign)
    signature_id = confirm_via_link(other, EMAIL, wants_updates=True)
    confirm_via_link(views.action, EMAIL, wants_updates=False)
    assert views.all(EMAIL) == CONSENTING
    from petitions.supporters.services import withdraw

    assert withdraw(EMAIL, signature_id)
    db.session.commit()
    assert views.all(EMAIL) == NOT_CONSENTING
    assert [i.source for i in consent.history(EMAIL)] == ["signature", "signature withdrawn"]

    erase(EMAIL)
    db.session.commit()
    assert EMAIL not in views.audience()
    left = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.email_normalised == EMAIL)
    ).all()
    assert left == []


def test_organiser_sees_current_consent_and_history(app, views):
    signature_id = confirm_via_link(views.action, EMAIL, wants_updates=True)
    from petitions.supporters.services import unsubscribe

    unsubscribe(EMAIL, views.campaign.id)
    db.session.commit()
    client = app.test_client()
    login(client, "owner@example.org")
    page = client.get(
        f"/organise/campaigns/{views.campaign.id}/actions/{views.action.id}"
        f"/signatures/{signature_id}"
    ).get_data(as_text=True)
    assert "Consents to campaign email now</dt><dd>no" in page
    assert "Consent history" in page and "one-click unsubscribe" in page
