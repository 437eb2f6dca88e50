import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.signing.models import Signature
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from, sign_via_form


@pytest.fixture
def action_url(factories):
    campaign = make_campaign(slug="stop-it")
    action = make_action(campaign, slug="now", pledge_options=[])
    db.session.commit()
    return f"/c/{campaign.slug}/{action.slug}", action.id


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature)) or 0


def test_sign_redirects_to_thanks_and_stores(client, action_url):
    url, _ = action_url
    response = sign_via_form(client, url + "?source=newsletter", source="newsletter")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url + "/thanks")
    thanks = client.get(response.headers["Location"])
    assert b"check your email" in thanks.data
    assert b"whatsapp" in thanks.data.lower()
    assert _count() == 1
    assert db.session.scalar(select(Signature.source)) == "newsletter"


def test_repeat_submission_gets_the_same_response(client, action_url):
    url, _ = action_url
    first = sign_via_form(client, url)
    second = sign_via_form(client, url, email="ANN@example.org ")
    assert (first.status_code, first.headers["Location"]) == (
        second.status_code,
        second.headers["Location"],
    )
    assert _count() == 1


BAD = [
    ({"name": ""}, "Enter your name."),
    ({"name": "x" * 101}, "up to 100 characters"),
    ({"name": "Ann\r\nBcc: victim@example.org"}, "no line breaks"),
    ({"name": "Ann\u202eevil"}, "invisible"),
    ({"email": "not-an-email"}, "valid email"),
    ({"email": "a@" + "b" * 300 + ".org"}, "too long"),
    ({"postcode": "ZZ"}, "full UK postcode"),
    ({"country": "XX"}, "Not a valid choice"),
    ({"comment": "c" * 1001}, "up to 1000 characters"),
]


@pytest.mark.parametrize(("fields", "message"), BAD)
def test_bad_input_is_shown_beside_the_field_and_kept(client, action_url, fields, message):
    url, _ = action_url
    response = sign_via_form(client, url, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html or "has-error" in html
    assert _count() == 0
    if "name" in fields and len(fields["name"]) < 50 and "\r" not in fields["name"]:
        assert fields["name"] in html, "what they typed is kept"


def test_nul_byte_is_a_clear_400(client, action_url):
    url, _ = action_url
    response = sign_via_form(client, url, name="Ann\x00")
    assert response.status_code == 400
    assert client.get("/c/stop-it%00/now").status_code == 400
    assert _count() == 0


def test_missing_csrf_token_is_a_clear_400(client, action_url):
    url, _ = action_url
    response = client.post(url, data={"name": "Ann", "email": "a@example.org"})
    assert response.status_code == 400
    assert b"security token" in response.data
    assert _count() == 0


def test_unknown_and_closed_actions(client, action_url, app):
    url, action_id = action_url
    assert client.get("/c/stop-it/nope").status_code == 404
    assert client.get("/c/nope").status_code == 404
    page = client.get(url)
    from petitions.campaigns.models import Action
    from petitions.core.time import utcnow

    db.session.get(Action, action_id).closed_at = utcnow()
    db.session.commit()
    response = client.post(
        url,
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "name": "Ann",
            "email": "a@example.org",
            "country": "GB",
            "postcode": "SW1A 1AA",
        },
    )
    assert response.status_code == 409
    assert b"closed" in response.data
    assert _count() == 0


def test_drafts_are_invisible(client, factories):
    campaign = make_campaign(slug="secret", status="draft")
    make_action(campaign, slug="a")
    db.session.commit()
    assert client.get("/c/secret").status_code == 404
    assert client.get("/c/secret/a").status_code == 404
    assert b"secret" not in client.get("/").data


def test_confirm_get_shows_a_button_and_changes_nothing(client, action_url, smtp_sink):
    from petitions.mailer.services import claim_batch, send_batch
    from tests.support.factories import TOKEN_IN_LINK

    url, _ = action_url
    sign_via_form(client, url)
    send_batch(claim_batch())
    token = TOKEN_IN_LINK.search(smtp_sink.wait_for(1)[0].text()).group(1)
    page = client.get(f"/confirm/{token}")
    assert page.status_code == 200
    assert b'<form method="post"' in page.data
    assert db.session.scalar(select(Signature.confirmed_at)) is None
    response = client.post(
        f"/confirm/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 200 and b"is confirmed" in response.data
    again = client.post(
        f"/confirm/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert b"Already confirmed" in again.data
    assert client.get("/confirm/forged-token-forged-token-forged").status_code == 404


def test_security_headers(client, action_url):
    url, _ = action_url
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in response.headers


def test_next_action_summary_shows_markdown_as_words(client, factories):
    campaign = make_campaign(slug="shops")
    make_action(campaign, slug="first", position=1, pledge_options=[])
    make_action(
        campaign,
        slug="second",
        position=2,
        title="Boycott",
        text="We ask them to **stop selling** [peat](https://example.org).",
    )
    db.session.commit()
    thanks = client.get("/c/shops/first/thanks").get_data(as_text=True)
    assert "Next: Boycott" in thanks
    assert "We ask them to stop selling peat." in thanks
    assert "**" not in thanks
