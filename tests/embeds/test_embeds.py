"""The embed: framing headers, signing without a session, sources, share links, settings."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from petitions.extensions import db
from petitions.signing.models import Signature
from tests.support.workspace import csrf, login, make_organiser

TOKEN = re.compile(r'name="embed_token" value="([^"]+)"')


def _setup(app: Flask, origins: str = "https://partner.example\nhttp://localhost:8001") -> tuple:
    from tests.support import factories

    with app.app_context():
        campaign = factories.make_campaign(embed_origins=origins)
        action = factories.make_action(campaign)
        db.session.commit()
        return campaign.slug, action.slug, action.id


def _form(html: str) -> dict[str, str]:
    token = TOKEN.search(html)
    assert token, "no embed token"
    started = re.search(
        r'name="started"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="started"', html
    )
    data = {
        "embed_token": token.group(1),
        "name": "Ema Bed",
        "email": "ema@example.org",
        "country": "GB",
        "postcode": "SW1A 1AA",
        "source": "embed",
    }
    if started:
        data["started"] = started.group(1) or started.group(2)
    return data


def test_embed_page_may_be_framed_only_by_listed_sites(app: Flask) -> None:
    slug, action_slug, _ = _setup(app)
    client = app.test_client()
    response = client.get(
        f"/embed/{slug}/{action_slug}", headers={"Referer": "https://partner.example/page"}
    )
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://partner.example http://localhost:8001" in csp
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers  # nothing a third-party frame would need
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "/api/v1/campaigns/" in html and "embed/frame.js" in html
    # Ordinary pages still refuse to be framed anywhere.
    page = client.get(f"/c/{slug}/{action_slug}")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_without_origins_only_this_site_may_frame(app: Flask) -> None:
    slug, action_slug, _ = _setup(app, origins="")
    response = app.test_client().get(f"/embed/{slug}/{action_slug}")
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")


def test_signing_inside_the_frame_needs_no_session_cookie(app: Flask) -> None:
    slug, action_slug, action_id = _setup(app)
    framed = app.test_client(use_cookies=False)
    page = framed.get(
        f"/embed/{slug}/{action_slug}?source=partner",
        headers={"Referer": "https://partner.example/news"},
    )
    data = _form(page.get_data(as_text=True))
    data["source"] = "partner"
    response = framed.post(f"/embed/{slug}/{action_slug}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].endswith(f"/embed/{slug}/{action_slug}/thanks")
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        assert signature is not None and signature.action_id == action_id
        assert signature.source == "partner" and signature.referrer == "partner.example"
        assert signature.confirmed_at is None  # double opt-in as ever
    thanks = framed.get(response.headers["Location"])
    assert thanks.status_code == 200
    html = thanks.get_data(as_text=True)
    for source in ("email", "whatsapp", "facebook", "x", "link"):
        assert f"source%3D{source}" in html or f"source={source}" in html, source


def test_forged_expired_or_foreign_tokens_store_nothing(app: Flask) -> None:
    slug, action_slug, _ = _setup(app)
    other_slug, other_action, _ = _setup(app)
    client = app.test_client(use_cookies=False)
    data = _form(client.get(f"/embed/{other_slug}/{other_action}").get_data(as_text=True))
    for token in ("", "forged", data["embed_token"]):  # the last is for another action
        response = client.post(f"/embed/{slug}/{action_slug}", data={**data, "embed_token": token})
        assert response.status_code == 400
        assert "expired" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Signature)) is None


def test_invalid_fields_show_errors_in_the_frame(app: Flask) -> None:
    slug, action_slug, _ = _setup(app)
    client = app.test_client(use_cookies=False)
    data = _form(client.get(f"/embed/{slug}/{action_slug}").get_data(as_text=True))
    response = client.post(f"/embed/{slug}/{action_slug}", data={**data, "email": "nope"})
    assert response.status_code == 400
    assert "error-summary" in response.get_data(as_text=True)


def test_share_buttons_and_social_metadata(app: Flask) -> None:
    slug, action_slug, _ = _setup(app)
    client = app.test_client()
    thanks = client.get(f"/c/{slug}/{action_slug}/thanks").get_data(as_text=True)
    assert "wa.me" in thanks and "facebook.com/sharer" in thanks and "x.com/intent" in thanks
    assert "mailto:" in thanks and "data-copy=" in thanks and "share.js" in thanks
    action_page = client.get(f"/c/{slug}/{action_slug}").get_data(as_text=True)
    campaign_page = client.get(f"/c/{slug}").get_data(as_text=True)
    for html in (action_page, campaign_page):
        assert 'property="og:title"' in html and 'name="twitter:card"' in html
        assert 'property="og:url" content="http://localhost/c/' in html


def test_organisers_set_allowed_sites_and_copy_the_snippet(app: Flask) -> None:
    from tests.support import factories

    with app.app_context():
        ann = make_organiser("ann-org@example.org")
        make_organiser("bob-org@example.org")
        campaign = factories.make_campaign(owner_id=ann.id)
        factories.make_action(campaign, slug="sign-here")
        db.session.commit()
        campaign_id = campaign.id
    client = app.test_client()
    login(client, "ann-org@example.org")
    url = f"/organise/campaigns/{campaign_id}/embed"
    token = csrf(client, url)
    page = client.get(url).get_data(as_text=True)
    assert "data-petitions-embed" in page and "/embed/" in page and "sign-here" in page
    bad = client.post(url, data={"csrf_token": token, "origins": "javascript:alert(1)"})
    assert bad.status_code == 400
    saved = client.post(
        url,
        data={"csrf_token": token, "origins": "https://Partner.example/\nhttps://*.friends.org"},
    )
    assert saved.status_code == 303
    with app.app_context():
        from petitions.campaigns.models import Campaign

        found = db.session.get(Campaign, campaign_id)
        assert found is not None
        assert found.embed_origins == "https://partner.example\nhttps://*.friends.org"
    other = app.test_client()
    login(other, "bob-org@example.org")
    assert other.get(url).status_code == 404


def test_a_closed_action_says_so_in_the_frame(app: Flask) -> None:
    from petitions.campaigns.models import Action
    from petitions.core.time import utcnow

    slug, action_slug, action_id = _setup(app)
    client = app.test_client(use_cookies=False)
    data = _form(client.get(f"/embed/{slug}/{action_slug}").get_data(as_text=True))
    with app.app_context():
        action = db.session.get(Action, action_id)
        assert action is not None
        action.closed_at = utcnow()
        db.session.commit()
    page = client.get(f"/embed/{slug}/{action_slug}")
    assert page.status_code == 200 and "is closed" in page.get_data(as_text=True)
    response = client.post(f"/embed/{slug}/{action_slug}", data=data)
    assert response.status_code == 409 and "is closed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Signature)) is None


def test_an_event_embeds_with_its_places_and_rsvp_form(app: Flask, smtp_sink) -> None:
    """The event embed: when (zone named), where, places; an RSVP through the frame with
    its answers, no session cookie; confirmed, it holds a place. A full event without a
    waitlist says so; a proposal waiting for approval is not embeddable."""
    from petitions.gatherings import services as gatherings
    from petitions.gatherings.models import Rsvp
    from tests.gatherings.conftest import confirm, make_event
    from tests.support import factories

    with app.app_context():
        campaign = factories.make_campaign(slug="gather", embed_origins="https://partner.example")
        action = make_event(
            campaign,
            capacity=1,
            waitlist=False,
            questions=gatherings.parse_questions("Bringing a guest?\n!Access needs"),
        )
        gatherings.set_hosting(campaign, True)
        from tests.gatherings.conftest import event_input

        pending = gatherings.propose_event(campaign, event_input(title="Mine"), "H", "h@x.org")
        db.session.commit()
        url, pending_url = f"/embed/gather/{action.slug}", f"/embed/gather/{pending.slug}"
    framed = app.test_client(use_cookies=False)
    page = framed.get(url, headers={"Referer": "https://partner.example/events"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (
        "frame-ancestors 'self' https://partner.example" in page.headers["Content-Security-Policy"]
    )
    assert "Europe/London time" in html and "Town hall steps" in html and "1 left" in html
    assert "secret-room" not in html and 'name="q_access_needs"' in html and "RSVP" in html
    data = _form(html)
    data.update({"q_bringing_a_guest": "Yes", "q_access_needs": "Step-free", "source": "partner"})
    bad = framed.post(url, data={**data, "q_access_needs": "bad\u200bzero-width"})
    assert bad.status_code == 400 and TOKEN.search(bad.get_data(as_text=True))
    sent = framed.post(url, data=data)
    assert sent.status_code == 303 and sent.location.endswith(f"{url}/thanks")
    assert "confirm your RSVP" in framed.get(sent.location).get_data(as_text=True)
    confirm(app, app.test_client(), smtp_sink, "ema@example.org")
    with app.app_context():
        rsvp_row = db.session.scalar(select(Rsvp))
        signature = db.session.get(Signature, rsvp_row.signature_id)
        assert rsvp_row.status == "going" and signature.source == "partner"
        assert rsvp_row.answers == {"bringing_a_guest": "Yes"}
        assert rsvp_row.sensitive_answers == {"access_needs": "Step-free"}
        assert signature.referrer == "partner.example"
    full = framed.get(url).get_data(as_text=True)
    assert "fully booked" in full and 'name="embed_token"' not in full
    refused = framed.post(url, data=_form(page.get_data(as_text=True)))
    assert refused.status_code in (200, 303, 409)  # never a 500; a full event takes no one
    with app.app_context():
        assert db.session.scalar(select(Rsvp).where(Rsvp.status == "going")) is not None
    assert framed.get(pending_url).status_code == 404
    assert framed.get("/embed/gather/" + "9" * 40).status_code == 404
