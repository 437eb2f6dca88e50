"""The public read API: shapes, paging, breakdowns from the tallies, caching and CORS."""

from __future__ import annotations

from typing import Any

from petitions.campaigns.models import CampaignStatus
from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from petitions.signing.models import Signature


def _confirm_all(action_id: int) -> None:
    for signature in db.session.query(Signature).filter_by(action_id=action_id):
        signature.confirmed_at = utcnow()
        signature.needs_count = True
    db.session.commit()
    fold_counts()
    db.session.commit()


def test_campaign_list_pages_with_links_and_hides_drafts(client: Any, factories: Any) -> None:
    for n in range(3):
        factories.make_action(factories.make_campaign(title=f"Live {n}"))
    factories.make_campaign(title="Secret draft", status=CampaignStatus.DRAFT.value)
    db.session.commit()

    first = client.get("/api/v1/campaigns?per_page=2")
    assert first.status_code == 200
    body = first.get_json()
    assert body["total"] == 3 and body["pages"] == 2 and len(body["data"]) == 2
    assert body["links"]["prev"] is None
    assert body["links"]["next"].endswith("/api/v1/campaigns?page=2&per_page=2")
    second = client.get(body["links"]["next"]).get_json()
    assert len(second["data"]) == 1 and second["links"]["next"] is None
    assert second["links"]["prev"].endswith("page=1&per_page=2")
    titles = {c["title"] for c in body["data"] + second["data"]}
    assert "Secret draft" not in titles
    assert client.get("/api/v1/campaigns/" + "campaign-x").status_code == 404


def test_action_detail_has_counts_and_breakdowns_but_no_personal_data(
    client: Any, factories: Any
) -> None:
    campaign = factories.make_campaign()
    action = factories.make_action(campaign, goal=10, target="The Minister")
    factories.make_signature(action, "ann@example.org", source="email", referrer="news.example")
    factories.make_signature(
        action, "bob@example.org", name="Bob Secretname", postcode="M1 1AA", postcode_area="M"
    )
    factories.make_signature(action, "cy@example.org", country="FR", postcode="75001")
    _confirm_all(action.id)

    response = client.get(f"/api/v1/campaigns/{campaign.slug}/actions/{action.slug}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    body = response.get_json()
    assert body["confirmed"] == 3 and body["goal"] == 10 and body["percent"] == 30
    assert body["state"] == "open" and body["target"] == "The Minister"
    breakdowns = body["breakdowns"]
    assert {"country": "GB", "count": 2} in breakdowns["by_country"]
    assert {"country": "FR", "count": 1} in breakdowns["by_country"]
    assert {r["area"] for r in breakdowns["by_postcode_area"]} == {"SW", "M"}
    assert {"source": "email", "count": 1} in breakdowns["by_source"]
    assert breakdowns["by_referrer"] == [{"site": "news.example", "count": 1}]
    assert sum(d["count"] for d in breakdowns["by_day"]) == 3
    for secret in ("ann@example.org", "Secretname", "M1 1AA", "75001"):
        assert secret not in text


def test_counter_is_cacheable_with_etag_and_cors(client: Any, factories: Any) -> None:
    campaign = factories.make_campaign()
    action = factories.make_action(campaign, goal=4)
    factories.make_signature(action)
    _confirm_all(action.id)
    url = f"/api/v1/campaigns/{campaign.slug}/actions/{action.slug}/count"

    response = client.get(url)
    assert response.status_code == 200
    assert response.get_json() == {
        "action": action.id,
        "confirmed": 1,
        "goal": 4,
        "percent": 25,
        "state": "open",
        "updated_at": response.get_json()["updated_at"],
    }
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=" in cache and "stale-while-revalidate=" in cache
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert "Set-Cookie" not in response.headers

    factories.make_signature(action, "second@example.org")
    _confirm_all(action.id)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["confirmed"] == 2


def test_bad_paging_and_unknown_things_are_json_4xx(client: Any, app_ctx: None) -> None:
    for url in (
        "/api/v1/campaigns?page=0",
        "/api/v1/campaigns?per_page=1000",
        "/api/v1/actions?page=x",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.is_json and "error" in response.get_json()
    for url in (
        "/api/v1/campaigns/nope",
        "/api/v1/campaigns/nope/actions/x/count",
        "/api/v1/nothing",
    ):
        response = client.get(url)
        assert response.status_code == 404 and response.is_json, url


ACTION_FIELDS = {
    "id", "slug", "campaign", "kind", "title", "text", "target", "goal", "deadline", "state",
    "confirmed", "percent", "links",
}  # fmt: skip


def test_shapes_keep_their_field_names_and_json_types(client: Any, factories: Any) -> None:
    from datetime import date

    campaign = factories.make_campaign(image_url="https://img.example/x.png")
    campaign.published_at = utcnow()
    action = factories.make_action(campaign, goal=0, deadline=date(2099, 1, 2))
    factories.make_signature(action)
    _confirm_all(action.id)

    listing = client.get("/api/v1/campaigns").get_json()
    assert set(listing) == {"data", "page", "per_page", "total", "pages", "links"}
    assert set(listing["links"]) == {"self", "first", "last", "next", "prev"}
    found = listing["data"][0]
    assert set(found) == {
        "slug", "title", "summary", "body", "image_url", "state", "published_at", "actions",
        "links",
    }  # fmt: skip
    assert set(found["links"]) == {"self", "page"} and found["state"] == "live"
    assert found["published_at"].endswith("Z") and found["image_url"].endswith("x.png")
    one = found["actions"][0]
    assert set(one) == ACTION_FIELDS
    assert set(one["links"]) == {"self", "count", "page", "embed"}
    assert one["deadline"] == "2099-01-02" and one["kind"] == "petition"
    assert one["percent"] == 100 and one["confirmed"] == 1  # a goal of 0 is always met

    detail = client.get(one["links"]["self"]).get_json()
    assert set(detail) == ACTION_FIELDS | {"breakdowns", "timeline"}
    assert detail["timeline"] == []
    (day,) = detail["breakdowns"]["by_day"]
    assert date.fromisoformat(day["day"]) and day["count"] == 1
    count = client.get(one["links"]["count"]).get_json()
    assert set(count) == {"action", "confirmed", "goal", "percent", "state", "updated_at"}
    assert count["updated_at"].endswith("Z")

    index = client.get("/api/v1/").get_json()
    assert index["links"]["openapi"].endswith("/api/openapi.json") and index["version"] == 1
