"""Building a campaign through the forms: create, preview a draft, publish, close."""

from __future__ import annotations

from flask import Flask

from petitions.campaigns.models import Action, Campaign
from petitions.extensions import db
from tests.support.web import sign_via_form
from tests.support.workspace import csrf, login, make_organiser


def _new_campaign(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf(client, "/organise/campaigns/new"),
        "title": "Save the pier",
        "slug": "",
        "summary": "Our pier needs repairs.",
        "body": "**Act now.** <script>alert(1)</script> [council](https://example.org)",
        "image_url": "",
        "status": "draft",
    }
    data.update(fields)
    return client.post("/organise/campaigns/new", data=data)


def test_build_preview_publish_and_close(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    client = app.test_client()
    login(client, "ann@example.org")

    created = _new_campaign(client)
    assert created.status_code == 303
    with app.app_context():
        campaign = db.session.scalar(db.select(Campaign))
        assert campaign.slug == "save-the-pier" and campaign.status == "draft"
        campaign_id = campaign.id
    page = f"/organise/campaigns/{campaign_id}"
    assert created.location == page

    url = f"{page}/actions/new"
    added = client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            "kind": "petition",
            "title": "Repair the pier",
            "slug": "",
            "target": "The council",
            "text": "We ask the council to repair the pier.",
            "goal": "500",
            "deadline": "",
            "pledge_options": "",
            "consent": "We keep your details to count your signature.",
            "thank_you": "Thanks!",
            "position": "1",
        },
    )
    assert added.status_code == 303
    with app.app_context():
        action = db.session.scalar(db.select(Action))
        action_id = action.id
        assert action.consent_version.text == "We keep your details to count your signature."

    # A draft is invisible to the public but previewable by its organiser, sanitised.
    public = app.test_client()
    assert public.get("/c/save-the-pier").status_code == 404
    assert public.get("/c/save-the-pier/repair-the-pier").status_code == 404
    preview = client.get(f"{page}/preview")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "<strong>Act now.</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert client.get(f"{page}/actions/{action_id}/preview").status_code == 200

    published = client.post(f"{page}/status/live", data={"csrf_token": csrf(client, page)})
    assert published.status_code == 303
    assert public.get("/c/save-the-pier").status_code == 200
    assert sign_via_form(public, "/c/save-the-pier/repair-the-pier").status_code == 303

    signing_url = "/c/save-the-pier/repair-the-pier"
    open_page_token = csrf(public, signing_url)
    closed = client.post(
        f"{page}/actions/{action_id}/close", data={"csrf_token": csrf(client, page)}
    )
    assert closed.status_code == 303
    assert "csrf_token" not in public.get(signing_url).get_data(as_text=True)  # no form
    late = public.post(
        signing_url,
        data={
            "csrf_token": open_page_token,
            "country": "GB",
            "postcode": "SW1A 1AA",
            "name": "Bo Late",
            "email": "bo@example.org",
        },
    )
    assert late.status_code == 409


def test_slugs_are_unique_and_updates_are_posted(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    client = app.test_client()
    login(client, "ann@example.org")
    assert _new_campaign(client).status_code == 303
    clash = _new_campaign(client, slug="save-the-pier")
    assert clash.status_code == 400
    assert "Another campaign uses that web address" in clash.get_data(as_text=True)
    bad = _new_campaign(client, slug="Not A Slug!", image_url="http://insecure.example/x.png")
    assert bad.status_code == 400

    with app.app_context():
        campaign_id = db.session.scalar(db.select(Campaign.id))
    url = f"/organise/campaigns/{campaign_id}/updates/new"
    posted = client.post(
        url,
        data={"csrf_token": csrf(client, url), "title": "Council meets", "body": "On *Tuesday*."},
    )
    assert posted.status_code == 303
    page = client.get(f"/organise/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Council meets" in page


def test_forms_need_csrf_and_someone_elses_campaign_is_404(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
        make_organiser("bob@example.org")
    ann, bob = app.test_client(), app.test_client()
    login(ann, "ann@example.org")
    login(bob, "bob@example.org")
    assert ann.post("/organise/campaigns/new", data={"title": "x"}).status_code == 400
    assert _new_campaign(ann).status_code == 303
    with app.app_context():
        campaign_id = db.session.scalar(db.select(Campaign.id))
    for path in ("", "/edit", "/preview", "/dashboard", "/actions/new", "/updates/new"):
        assert bob.get(f"/organise/campaigns/{campaign_id}{path}").status_code == 404, path
    assert app.test_client().get(f"/organise/campaigns/{campaign_id}").status_code == 302
