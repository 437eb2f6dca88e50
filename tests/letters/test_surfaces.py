"""Letters everywhere else: counts per target in the public API (no personal data), embeds
link to the letter page, the sign form and the OSDI signature helper store nothing for a
letter, and "My actions" links to the letter (withdrawing stops what has not gone)."""

from __future__ import annotations

import time

from sqlalchemy import select

from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.letters import jobs, services
from petitions.letters.counts import jobs as counts
from petitions.letters.models import LetterDelivery
from petitions.signing.models import Signature
from petitions.supporters.services import supporter_for
from tests.letters.conftest import CAMPAIGN, COMPANY_URL, MP_URL, write
from tests.support.web import csrf_from


def _confirm_all(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        for signature in db.session.scalars(select(Signature)):
            signature.confirmed_at = utcnow()
            services.plan_deliveries(signature.id)
        db.session.commit()
        jobs.run()
        counts.fold()
        db.session.remove()


def test_public_api_counts_per_target_without_personal_data(app, client, smtp_sink, demo):
    assert write(client, COMPANY_URL, "ann@example.org").status_code == 303
    assert write(client, MP_URL, "bob@example.org", query="?postcode=GU11 1AA").status_code == 303
    _confirm_all(app)
    body = client.get(f"/api/v1/campaigns/{CAMPAIGN}/actions/write-to-threadline/targets")
    assert body.status_code == 200
    data = body.get_json()
    assert {t["name"]: (t["letters"], t["delivered"]) for t in data["targets"]} == {
        "Jordan Vale": (1, 1),
        "Morgan Ellis": (1, 1),
    }
    assert {t["name"]: t["stance"] for t in data["targets"]}["Morgan Ellis"] == "responded"
    assert "ann" not in body.get_data(as_text=True).lower()
    mp = client.get(
        f"/api/v1/campaigns/{CAMPAIGN}/actions/ask-your-mp-to-back-the-amendment/targets"
    ).get_json()
    rowan = next(t for t in mp["targets"] if t["name"] == "Alex Rowan MP")
    assert rowan["letters"] == 1 and rowan["stance"] == "supports"
    assert rowan["constituency_code"] == "E14001063"
    assert (
        client.get(
            f"/api/v1/campaigns/{CAMPAIGN}/actions/carmakers-trace-your-supply-chains/targets"
        ).status_code
        == 404
    )


def test_embeds_sign_form_and_osdi_store_nothing_for_a_letter(app, client, demo):
    embed = client.get(f"/embed/{CAMPAIGN}/write-to-threadline")
    assert embed.status_code == 200 and b"Write your letter" in embed.data
    assert b'name="email"' not in embed.data
    posted = client.post(
        f"/embed/{CAMPAIGN}/write-to-threadline",
        data={"name": "Ann", "email": "ann@example.org", "country": "GB", "postcode": "GU11 1AA"},
    )
    assert posted.status_code == 409
    token = csrf_from(client.get(COMPANY_URL).get_data(as_text=True))
    signed = client.post(
        f"/c/{CAMPAIGN}/write-to-threadline",
        data={
            "csrf_token": token,
            "name": "Ann",
            "email": "ann@example.org",
            "country": "GB",
            "postcode": "GU11 1AA",
        },
    )
    assert signed.status_code == 303 and "/l/" in signed.location
    osdi = client.post(
        f"/api/osdi/v1/petitions/{demo['company']}/signatures",
        json={"person": {"given_name": "Ann", "email_addresses": [{"address": "a@example.org"}]}},
    )
    assert osdi.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Signature.id)) is None


def test_my_actions_links_the_letter_and_withdrawing_stops_undelivered(app, client, demo):
    assert write(client, COMPANY_URL, "ann@example.org").status_code == 303
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        signature.confirmed_at = utcnow()
        services.plan_deliveries(signature.id)
        supporter = supporter_for("ann@example.org")
        db.session.commit()
        supporter_id, signature_id = supporter.id, signature.id
    with client.session_transaction() as sess:
        sess["supporter_id"] = supporter_id
        sess["supporter_until"] = int(time.time()) + 600
        sess["supporter_version"] = 1
    page = client.get("/my").get_data(as_text=True)
    assert "Your letter and where it went" in page and "t be unsent" in page
    own = client.get(page.split('class="letter-note">Letter · <a href="')[1].split('"')[0])
    assert own.status_code == 200 and b"Dear Jordan Vale" in own.data
    response = client.post(
        f"/my/signatures/{signature_id}/withdraw", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 303
    with app.app_context():
        statuses = set(db.session.scalars(select(LetterDelivery.status)))
        assert statuses == {"skipped"}


def test_osdi_advocacy_campaigns_and_the_record_outreach_helper(app, client, smtp_sink, demo):
    listing = client.get("/api/osdi/v1/advocacy_campaigns")
    assert listing.status_code == 200
    docs = listing.get_json()["_embedded"]["osdi:advocacy_campaigns"]
    assert {d["name"] for d in docs} == {"write-to-threadline", "ask-your-mp-to-back-the-amendment"}
    company = client.get(f"/api/osdi/v1/advocacy_campaigns/{demo['company']}").get_json()
    assert company["type"] == "email"
    assert [t["family_name"] for t in company["targets"]] == ["Vale", "Ellis"]
    helper = f"/api/osdi/v1/advocacy_campaigns/{demo['mp']}/outreaches"
    person = {
        "given_name": "Cat",
        "email_addresses": [{"address": "cat@example.org"}],
        "postal_addresses": [{"postal_code": "WA15 0ZZ", "country": "GB"}],
    }
    split = client.post(helper, json={"person": person})
    assert split.status_code == 422 and "petitions:constituency" in split.get_data(as_text=True)
    html = client.post(helper, json={"person": person, "message": "<script>x</script>"})
    assert html.status_code == 422
    recorded = client.post(helper, json={"person": person, "petitions:constituency": "E14001065"})
    assert recorded.status_code == 200, recorded.get_data(as_text=True)
    body = recorded.get_json()
    assert body["petitions:status"] == "pending_confirmation"
    assert body["targets"][0]["given_name"] == "Sam"
    no_email = client.post(helper, json={"person": {"given_name": "Dan"}})
    assert no_email.status_code == 422
    with app.app_context():
        from petitions.letters.models import Letter

        letter = db.session.scalar(select(Letter))
        assert letter.constituency_name == "Altrincham and Sale West"
        assert db.session.scalar(select(LetterDelivery.id)) is None  # nothing before confirming


def test_erasure_blanks_the_words_and_stops_what_has_not_gone(app, client, smtp_sink, demo):
    from petitions.letters.models import Letter
    from petitions.supporters.services import erase

    assert write(client, COMPANY_URL, "ann@example.org", personal="My own words").status_code == 303
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        signature.confirmed_at = utcnow()
        services.plan_deliveries(signature.id)
        db.session.commit()
        erase("ann@example.org")
        db.session.commit()
        letter = db.session.scalar(select(Letter))
        assert letter.body == "" and "My own words" not in letter.body
        assert set(db.session.scalars(select(LetterDelivery.status))) == {"skipped"}
        assert jobs.run().sent == 0
        db.session.remove()
