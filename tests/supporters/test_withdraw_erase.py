"""Withdrawal and erasure: counts stay equal to the confirmed rows; nothing personal is left."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from petitions.core.models import Token
from petitions.core.tokens import issue_token
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage, SuppressedAddress
from petitions.mailer.services import suppress
from petitions.mailings.models import MailingDelivery, MailingKind
from petitions.mailings.recipients import prepare
from petitions.mailings.services import request_mailing
from petitions.signing.models import Signature
from petitions.supporters.models import Supporter
from petitions.supporters.services import SIGNIN_PURPOSE
from tests.support.web import csrf_from
from tests.supporters.conftest import assert_counts_match_rows, sign_confirmed


def test_withdraw_from_my_actions(client, factories, signed_in):
    action = factories.make_action(title="Save the pool")
    mine = sign_confirmed(action, "ann@example.org")
    sign_confirmed(action, "bob@example.org")
    assert_counts_match_rows()
    signed_in("ann@example.org")

    page = client.get("/my").get_data(as_text=True)
    # Withdrawing asks once, on its own page (no script dialog); asking changes nothing.
    assert f'href="/my/signatures/{mine}/withdraw"' in page
    ask = client.get(f"/my/signatures/{mine}/withdraw")
    assert ask.status_code == 200
    assert "Withdraw your signature from “Save the pool”?" in ask.get_data(as_text=True)
    assert db.session.get(Signature, mine).withdrawn_at is None
    token = csrf_from(ask.get_data(as_text=True))
    response = client.post(f"/my/signatures/{mine}/withdraw", data={"csrf_token": token})
    assert response.status_code == 303
    assert db.session.get(Signature, mine).withdrawn_at is not None
    assert "withdrawn" in client.get("/my").get_data(as_text=True)
    assert_counts_match_rows()

    # Someone else's signature cannot be withdrawn from here.
    bob = db.session.scalar(
        select(Signature.id).where(Signature.email_normalised == "bob@example.org")
    )
    assert (
        client.post(f"/my/signatures/{bob}/withdraw", data={"csrf_token": token}).status_code == 404
    )


def test_withdraw_needs_a_session_and_csrf(client, factories):
    action = factories.make_action()
    mine = sign_confirmed(action, "ann@example.org")
    response = client.post(f"/my/signatures/{mine}/withdraw")
    assert response.status_code in (303, 400)
    assert db.session.get(Signature, mine).withdrawn_at is None


def test_download_my_data(client, factories, signed_in):
    action = factories.make_action(title="Clean the river")
    sign_confirmed(action, "ann@example.org", comment="For my kids", wants_updates=True)
    signed_in("ann@example.org")
    response = client.get("/my/data.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    [entry] = data["signatures_and_pledges"]
    assert entry["action"] == "Clean the river"
    assert entry["comment"] == "For my kids"
    assert entry["wants_updates"] is True
    assert str(entry["consent_version"]) in data["consent_wording"]
    assert "count and verify" in data["consent_wording"][str(entry["consent_version"])]["text"]


def test_erase_me(client, factories, signed_in):
    campaign = factories.make_campaign()
    first = factories.make_action(campaign)
    second = factories.make_action(campaign)
    confirmed = sign_confirmed(first, "ann@example.org", wants_updates=True, comment="Mine")
    pending = factories.make_signature(second, "ann@example.org")  # never confirmed
    sign_confirmed(first, "bob@example.org", wants_updates=True)
    issue_token("confirm_signature", pending, timedelta(days=7))
    mailing, _ = request_mailing(campaign.id, "test:1", "News", MailingKind.UPDATE)
    prepare(mailing.id)
    suppress("ann@example.org", "smtp 550")
    db.session.commit()
    assert_counts_match_rows()
    supporter_id = signed_in("ann@example.org")
    issue_token(SIGNIN_PURPOSE, supporter_id, timedelta(minutes=5))
    db.session.commit()

    page = client.get("/my/erase")
    assert page.status_code == 200
    refused = client.post("/my/erase", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert refused.status_code == 400, "the confirmation box must be ticked"
    response = client.post(
        "/my/erase", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "confirm": "y"}
    )
    assert response.status_code == 200
    assert "erased" in response.get_data(as_text=True)
    db.session.expire_all()

    # Nothing points back to Ann any more.
    for column in (Signature.email_normalised, Signature.email, Signature.email_canonical):
        assert not db.session.scalar(select(func.count()).where(column.ilike("%ann@%")))
    row = db.session.get(Signature, confirmed)
    assert (row.name, row.postcode, row.comment, row.ip_address) == ("", "", "", None)
    assert row.confirmed_at is not None, "a confirmed signature keeps counting, anonymously"
    assert db.session.get(Signature, pending).invalidated_at is not None
    assert db.session.scalar(select(func.count()).select_from(Supporter)) == 0
    assert db.session.get(SuppressedAddress, "ann@example.org") is None
    assert not db.session.scalar(
        select(func.count()).where(MailingDelivery.email_normalised == "ann@example.org")
    )
    assert db.session.scalar(select(func.count()).select_from(MailingDelivery)) == 2
    assert db.session.scalar(select(func.count()).where(Token.subject_id == pending)) == 0
    assert db.session.scalar(select(func.count()).where(Token.purpose == SIGNIN_PURPOSE)) == 0
    unsent = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.ref_id == pending, OutboxMessage.sent_at.is_(None)
        )
    ).all()
    assert unsent and all(m.failed_at is not None for m in unsent)

    # Signed out, and the counts still equal the confirmed rows.
    assert "What you have signed" not in client.get("/my").get_data(as_text=True)
    assert_counts_match_rows()
