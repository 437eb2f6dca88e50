"""OSDI outreaches: a token lists the letters of its own campaigns' letter actions (the words,
the recipients and each copy's delivery, the person); without a token, or with another
organiser's, there is nothing to see."""

from __future__ import annotations

from petitions.api.tokens import create_token
from petitions.extensions import db
from petitions.letters import jobs
from tests.letters.conftest import COMPANY_URL, confirm, write
from tests.support.workspace import make_organiser

HEADER = "OSDI-API-Token"


def _token(email, *, admin=False):  # type: ignore[no-untyped-def]
    organiser = make_organiser(email, admin=admin)
    _, raw = create_token(organiser, "crm")
    db.session.commit()
    return raw


def test_a_token_lists_its_own_letters_as_outreaches(app, client, smtp_sink, demo):
    assert write(client, COMPANY_URL, "ann@example.org", personal="My own words").status_code == 303
    confirm(app, client, smtp_sink, "ann@example.org")
    assert write(client, COMPANY_URL, "bob@example.org").status_code == 303  # not confirmed
    with app.app_context():
        jobs.run()
        admin = _token("admin@example.org", admin=True)
        stranger = _token("other@example.org")
        db.session.remove()
    url = f"/api/osdi/v1/advocacy_campaigns/{demo['company']}/outreaches"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={HEADER: "nope"}).status_code == 401
    assert client.get(url, headers={HEADER: stranger}).status_code == 404
    listing = client.get(url, headers={HEADER: admin})
    assert listing.status_code == 200, listing.get_data(as_text=True)
    assert listing.headers["Cache-Control"] == "no-store"
    body = listing.get_json()
    assert body["total_records"] == 2
    ann, bob = body["_embedded"]["osdi:outreaches"]
    assert ann["type"] == "email" and ann["petitions:status"] == "confirmed"
    assert ann["message"].startswith("Dear Jordan Vale,") and "My own words" in ann["message"]
    assert [(t["family_name"], t["petitions:delivery"]) for t in ann["targets"]] == [
        ("Vale", "sent"),
        ("Ellis", "sent"),
    ]
    person = ann["_embedded"]["osdi:person"]
    assert person["email_addresses"][0]["address"] == "ann@example.org"
    assert bob["petitions:status"] == "pending"
    assert [t["petitions:delivery"] for t in bob["targets"]] == [None, None]
    one = client.get(ann["_links"]["self"]["href"], headers={HEADER: admin})
    assert one.status_code == 200 and one.get_json()["identifiers"] == ann["identifiers"]
    assert client.get(url + "/999999", headers={HEADER: admin}).status_code == 404
    petition = f"/api/osdi/v1/advocacy_campaigns/{demo['company'] + 99}/outreaches"
    assert client.get(petition, headers={HEADER: admin}).status_code == 404
    assert client.get(url + "?page=0", headers={HEADER: admin}).status_code == 400
