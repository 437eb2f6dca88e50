"""OSDI: field names, paging, the record signature helper, and token scoping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from petitions.campaigns.models import CampaignStatus
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.signing.models import Signature
from tests.support.web import sign_via_form
from tests.support.workspace import make_organiser

HAL = "application/hal+json"


def person(email: str = "ann@example.org", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person": {
            "given_name": "Ann",
            "family_name": "Example",
            "email_addresses": [{"address": email, "primary": True}],
            "postal_addresses": [{"postal_code": "SW1A 1AA", "country": "GB"}],
        },
        "comments": "Because it matters.",
        "referrer_data": {"source": "partner-newsletter", "website": "https://partner.example/x"},
        "triggers": {"autoresponse": {"enabled": True}},
    }
    body.update(extra)
    return body


def signatures_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature)) or 0


def test_entry_point_and_petitions_collection_use_osdi_names(client: Any, factories: Any) -> None:
    campaign = factories.make_campaign()
    actions = [factories.make_action(campaign, target="The Council") for _ in range(3)]
    db.session.commit()

    entry = client.get("/api/osdi/v1/")
    assert entry.status_code == 200 and entry.mimetype == HAL
    assert entry.get_json()["_links"]["osdi:petitions"]["href"].endswith("/api/osdi/v1/petitions")

    page = client.get("/api/osdi/v1/petitions?per_page=2").get_json()
    assert page["total_records"] == 3 and page["per_page"] == 2 and page["page"] == 1
    assert page["total_pages"] == 2
    assert page["_links"]["next"]["href"].endswith("/api/osdi/v1/petitions?page=2&per_page=2")
    petitions = page["_embedded"]["osdi:petitions"]
    assert len(petitions) == 2
    one = petitions[0]
    for name in (
        "identifiers",
        "origin_system",
        "created_date",
        "title",
        "petition_text",
        "target",
        "total_signatures",
        "browser_url",
    ):
        assert name in one, name
    assert one["target"] == [{"name": "The Council"}]
    assert one["identifiers"] == [f"petitions:{actions[-1].id}"]
    helper = one["_links"]["osdi:record_signature_helper"]["href"]
    assert helper.endswith(f"/api/osdi/v1/petitions/{actions[-1].id}/signatures")
    last = client.get(page["_links"]["next"]["href"]).get_json()
    assert "next" not in last["_links"] and last["_links"]["prev"]


def test_helper_signs_with_double_opt_in_and_dedupes_with_the_web_form(
    client: Any, factories: Any
) -> None:
    campaign = factories.make_campaign()
    action = factories.make_action(campaign)
    db.session.commit()
    url = f"/api/osdi/v1/petitions/{action.id}/signatures"

    response = client.post(url, json=person())
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == HAL
    assert response.get_json()["petitions:status"] == "pending_confirmation"
    signature = db.session.scalar(select(Signature))
    assert signature is not None
    assert signature.name == "Ann Example" and signature.confirmed_at is None
    assert signature.postcode_area == "SW" and signature.source == "partner-newsletter"
    assert signature.referrer == "partner.example" and signature.comment == "Because it matters."
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1

    # The same person through the web form, and the helper again: still one signature, and the
    # answers don't reveal that they had signed before.
    form = sign_via_form(client, f"/c/{campaign.slug}/{action.slug}", email="ANN@example.org")
    assert form.status_code in (303, 200)
    again = client.post(url, json=person(" Ann@Example.org "))
    assert again.status_code == 200 and again.get_json() == response.get_json()
    assert signatures_count() == 1


def test_helper_then_web_form_other_way_round(client: Any, factories: Any) -> None:
    campaign = factories.make_campaign()
    action = factories.make_action(campaign)
    db.session.commit()
    sign_via_form(client, f"/c/{campaign.slug}/{action.slug}", email="zed@example.org")
    assert signatures_count() == 1
    response = client.post(
        f"/api/osdi/v1/petitions/{action.id}/signatures", json=person("zed@example.org")
    )
    assert response.status_code == 200
    assert signatures_count() == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (json.dumps(person()).encode(), "text/plain", 415),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (json.dumps({"person": "x"}).encode(), "application/json", 422),
        (json.dumps({}).encode(), "application/json", 422),
        (json.dumps({"person": {"email_addresses": "x"}}).encode(), "application/json", 422),
        (json.dumps(person(comments=5)).encode(), "application/json", 422),
        (json.dumps(person("not-an-email")).encode(), "application/json", 422),
        (
            json.dumps(person(triggers={"autoresponse": {"enabled": "yes"}})).encode(),
            "application/json",
            422,
        ),
        (json.dumps(person(comments="x" * 20000)).encode(), "application/json", 413),
    ],
)
def test_helper_refuses_bad_requests_with_json_4xx(
    client: Any, factories: Any, body: bytes, content_type: str, status: int
) -> None:
    action = factories.make_action()
    db.session.commit()
    response = client.post(
        f"/api/osdi/v1/petitions/{action.id}/signatures", data=body, content_type=content_type
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.get_json()["status"] == status
    assert signatures_count() == 0


def test_helper_field_errors_name_osdi_paths(client: Any, factories: Any) -> None:
    action = factories.make_action()
    db.session.commit()
    body = person("not-an-email")
    body["person"]["postal_addresses"] = [{"postal_code": "nonsense!!", "country": "GB"}]
    response = client.post(f"/api/osdi/v1/petitions/{action.id}/signatures", json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "person.email_addresses" in errors
    assert "person.postal_addresses.postal_code" in errors


def test_helper_on_unknown_draft_or_closed_petitions(client: Any, factories: Any) -> None:
    draft = factories.make_action(factories.make_campaign(status=CampaignStatus.DRAFT.value))
    closed = factories.make_action(factories.make_campaign(status=CampaignStatus.CLOSED.value))
    db.session.commit()
    for petition_id, status in (
        (999999, 404),
        (99999999999999, 404),
        (draft.id, 404),
        (closed.id, 409),
    ):
        response = client.post(f"/api/osdi/v1/petitions/{petition_id}/signatures", json=person())
        assert response.status_code == status, petition_id
        assert response.is_json
    assert client.post("/api/osdi/v1/petitions/abc/signatures", json=person()).status_code == 404
    assert signatures_count() == 0


def test_helper_is_rate_limited_like_the_form(app: Flask, client: Any, factories: Any) -> None:
    action = factories.make_action()
    db.session.commit()
    saved = {
        k: app.config.get(k)
        for k in ("RATELIMIT_ENABLED", "ABUSE_IP_ACTION_HARD", "ABUSE_IP_ACTION_SOFT")
    }
    app.config.update(RATELIMIT_ENABLED=True, ABUSE_IP_ACTION_HARD=2, ABUSE_IP_ACTION_SOFT=0)
    try:
        url = f"/api/osdi/v1/petitions/{action.id}/signatures"
        statuses = [
            client.post(url, json=person(f"p{n}@example.org")).status_code for n in range(4)
        ]
    finally:
        app.config.update(saved)
    assert statuses[:2] == [200, 200] and statuses[-1] == 429
    assert signatures_count() == 2


def test_tokens_read_only_their_own_campaigns(client: Any, factories: Any, token_for: Any) -> None:
    ann = make_organiser("ann-org@example.org")
    bob = make_organiser("bob-org@example.org")
    ours = factories.make_action(factories.make_campaign(owner_id=ann.id))
    theirs = factories.make_action(factories.make_campaign(owner_id=bob.id))
    draft = factories.make_action(factories.make_campaign(owner_id=ann.id))
    ours_sig = factories.make_signature(ours, "supporter@example.org", name="Sam Supporter")
    theirs_sig = factories.make_signature(theirs, "other@example.org")
    factories.make_signature(draft, "early@example.org")
    draft.campaign.status = CampaignStatus.DRAFT.value  # back to draft: still Ann's to read
    db.session.commit()
    ann_token, bob_token = token_for(ann), token_for(bob)

    def get(url: str, token: str | None) -> Any:
        return client.get(url, headers={"OSDI-API-Token": token} if token else {})

    listing = get(f"/api/osdi/v1/petitions/{ours.id}/signatures", ann_token)
    assert listing.status_code == 200, listing.get_json()
    assert listing.headers["Cache-Control"] == "no-store"
    body = listing.get_json()
    assert body["total_records"] == 1
    sig = body["_embedded"]["osdi:signatures"][0]
    assert sig["identifiers"] == [f"petitions:{ours_sig}"]
    person_doc = sig["_embedded"]["osdi:person"]
    assert person_doc["given_name"] == "Sam" and person_doc["family_name"] == "Supporter"
    assert person_doc["email_addresses"][0]["address"] == "supporter@example.org"
    assert sig["petitions:status"] == "pending"
    assert sig["_links"]["osdi:petition"]["href"].endswith(f"/petitions/{ours.id}")

    everything = get("/api/osdi/v1/signatures", ann_token).get_json()
    assert everything["total_records"] == 2  # the draft campaign's too, never Bob's
    assert get(f"/api/osdi/v1/signatures/{ours_sig}", ann_token).status_code == 200

    # Another organiser's token, no token, a bad token, a revoked token.
    assert get(f"/api/osdi/v1/petitions/{ours.id}/signatures", bob_token).status_code == 404
    assert get(f"/api/osdi/v1/signatures/{ours_sig}", bob_token).status_code == 404
    assert get(f"/api/osdi/v1/signatures/{theirs_sig}", ann_token).status_code == 404
    assert get("/api/osdi/v1/signatures", bob_token).get_json()["total_records"] == 1
    assert get("/api/osdi/v1/signatures", None).status_code == 401
    assert get("/api/osdi/v1/signatures", "pt_" + "x" * 43).status_code == 401
    assert get("/api/osdi/v1/signatures", "nonsense").status_code == 401

    from petitions.api.models import ApiToken
    from petitions.api.tokens import revoke_token

    for token in db.session.scalars(select(ApiToken)):
        revoke_token(token)
    db.session.commit()
    assert get("/api/osdi/v1/signatures", ann_token).status_code == 401


def test_tokens_are_stored_hashed(factories: Any, token_for: Any) -> None:
    from petitions.api.models import ApiToken

    raw = token_for(make_organiser())
    stored = db.session.scalar(select(ApiToken))
    assert stored is not None and raw not in (stored.token_hash, stored.prefix)
    assert raw.startswith(stored.prefix)


def test_helper_with_own_token_returns_the_signature(
    client: Any, factories: Any, token_for: Any
) -> None:
    ann = make_organiser("ann-org@example.org")
    bob = make_organiser("bob-org@example.org")
    action = factories.make_action(factories.make_campaign(owner_id=ann.id))
    db.session.commit()
    url = f"/api/osdi/v1/petitions/{action.id}/signatures"
    own = client.post(url, json=person(), headers={"OSDI-API-Token": token_for(ann)})
    assert own.status_code == 200
    assert own.get_json()["_embedded"]["osdi:person"]["email_addresses"][0]["address"] == (
        "ann@example.org"
    )
    other = client.post(url, json=person(), headers={"OSDI-API-Token": token_for(bob)})
    assert other.status_code == 200
    assert other.get_json()["petitions:status"] == "pending_confirmation"
    assert "_embedded" not in other.get_json()
    bad = client.post(url, json=person(), headers={"OSDI-API-Token": "nope"})
    assert bad.status_code == 401


def test_osdi_documents_keep_their_field_names(client: Any, factories: Any, token_for: Any) -> None:
    ann = make_organiser("ann-org@example.org")
    action = factories.make_action(factories.make_campaign(owner_id=ann.id), target="Them")
    factories.make_signature(action, "sam@example.org", name="Sam")
    db.session.commit()
    petition = client.get(f"/api/osdi/v1/petitions/{action.id}").get_json()
    assert set(petition) == {
        "identifiers", "origin_system", "created_date", "modified_date", "name", "title",
        "description", "petition_text", "target", "total_signatures", "browser_url",
        "featured_image_url", "petitions:kind", "petitions:goal", "petitions:end_date",
        "petitions:state", "petitions:campaign", "petitions:pledge_options", "_links",
    }  # fmt: skip
    assert petition["featured_image_url"] is None and petition["petitions:end_date"] is None
    assert petition["created_date"].endswith("Z")
    assert set(petition["_links"]) == {"self", "osdi:signatures", "osdi:record_signature_helper"}

    page = client.get(
        "/api/osdi/v1/signatures", headers={"OSDI-API-Token": token_for(ann)}
    ).get_json()
    assert set(page) == {"total_pages", "per_page", "page", "total_records", "_links", "_embedded"}
    assert set(page["_links"]) == {"self", "curies", "osdi:signatures"}  # no next/prev: one page
    signature = page["_embedded"]["osdi:signatures"][0]
    assert set(signature) == {
        "identifiers", "origin_system", "created_date", "modified_date", "comments",
        "referrer_data", "petitions:status", "petitions:confirmed_date",
        "petitions:pledge_option", "petitions:answers", "_embedded", "_links",
    }  # fmt: skip
    assert signature["petitions:answers"] == {}
    assert signature["petitions:confirmed_date"] is None
    assert signature["petitions:pledge_option"] is None
    assert signature["_embedded"]["osdi:person"]["family_name"] == ""
    assert signature["_embedded"]["osdi:person"]["email_addresses"] == [
        {"address": "sam@example.org", "primary": True, "status": "unsubscribed"}
    ]
    entry = client.get("/api/osdi/v1/").get_json()
    assert entry["max_pagesize"] == 100 and entry["_links"]["docs"] == {"href": "/api/openapi.json"}
