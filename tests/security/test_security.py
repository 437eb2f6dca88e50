"""The promises of docs/security.md, one test (or a few) each."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from petitions import create_app
from petitions.core.logredact import redact
from petitions.extensions import db
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.web import csrf_from, sign_via_form
from tests.support.workspace import login, make_organiser


@pytest.fixture
def action_url(app):
    with app.app_context():
        campaign = make_campaign(slug="sec")
        make_action(campaign, slug="act")
        db.session.commit()
        db.session.remove()
    return "/c/sec/act"


@pytest.fixture
def owner(app, action_url):
    with app.app_context():
        make_organiser("owner@example.org")
        db.session.remove()


# --- headers ----------------------------------------------------------------------------------


def test_csp_uses_a_fresh_nonce_per_response(client, action_url):
    first = client.get(action_url)
    second = client.get(action_url)
    csp = first.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert nonce not in second.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "'unsafe-inline'" not in csp
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert "form-action 'self'" in csp
    # Any inline script the page has carries that nonce.
    for tag in re.findall(r"<script[^>]*>", first.get_data(as_text=True)):
        assert "src=" in tag or f'nonce="{nonce}"' in tag


def test_pages_cannot_be_framed(client, action_url):
    response = client.get(action_url)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_nosniff_and_referrer_policy_everywhere(client, action_url):
    for url in (action_url, "/", "/organise/login", "/no-such-page"):
        response = client.get(url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url


def test_hsts_only_over_https(client, action_url):
    assert "Strict-Transport-Security" not in client.get(action_url).headers
    secure = client.get(action_url, base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- cookies ----------------------------------------------------------------------------------


def _cookie_attrs(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header.lower()
    raise AssertionError(f"no {name} cookie set")


def test_session_cookie_is_httponly_and_samesite(client, action_url):
    response = client.get(action_url)  # the form's CSRF token starts a session
    attrs = _cookie_attrs(response, "session")
    assert "httponly" in attrs
    assert "samesite=lax" in attrs


def test_cookies_are_secure_when_served_over_https(app, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://petitions.example.org")
    secure_app = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=False,
    )
    assert secure_app.config["SESSION_COOKIE_SECURE"] is True
    assert secure_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert secure_app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    response = secure_app.test_client().get("/organise/login", base_url="https://localhost")
    assert "secure" in _cookie_attrs(response, "session")


# --- caching ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/organise/login", "/organise/", "/organise/exports/1", "/organise/actions/1/abuse"]
)
def test_organiser_pages_are_never_cached(client, action_url, owner, url):
    login(client, "owner@example.org")
    response = client.get(url)
    assert response.headers["Cache-Control"] == "no-store", (url, response.status_code)


# --- CSRF -------------------------------------------------------------------------------------

EXEMPT = {"osdi.", "embeds.", "unsubscribe"}  # by design: see docs/security.md


_ANY = re.compile(r"<any\(([^)]*)\):[a-z_]+>")
_ARG = re.compile(r"<(?:[a-z]+:)?[a-z_]+>")


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
        if not methods or rule.endpoint.startswith(("static", "dev.")):
            continue
        if any(part in rule.endpoint for part in EXEMPT):
            continue
        url = _ANY.sub(lambda m: m.group(1).split(",")[0].strip(), rule.rule)
        url = _ARG.sub("1", url)
        yield rule.endpoint, url, sorted(methods)[0]


def test_every_state_changing_form_needs_a_csrf_token(app, action_url, owner):
    client = app.test_client()
    login(client, "owner@example.org")
    checked = []
    for endpoint, url, method in _post_rules(app):
        if url.startswith("/api/"):
            continue  # token-authenticated JSON, no cookies
        response = client.open(url, method=method, data={"x": "1"})
        assert response.status_code == 400, (endpoint, url, response.status_code)
        assert b"security token" in response.data, endpoint
        checked.append(endpoint)
    assert "signing.sign" in checked and "abuse.invalidate" in checked
    assert len(checked) >= 10


# --- open redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aLocation:%20https://evil.example",
        "https:evil.example",
    ],
)
def test_login_next_never_leaves_the_site(client, action_url, owner, target):
    response = login(client, "owner@example.org", next_url=target)
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location


def test_login_next_keeps_a_local_path(client, action_url, owner):
    response = login(client, "owner@example.org", next_url="/organise/")
    assert response.headers["Location"] == "/organise/"


# --- logs -------------------------------------------------------------------------------------


def test_redact_emails_and_tokens():
    line = (
        'GET /confirm/Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh HTTP/1.1" 200 from ann@example.org'
    )
    cleaned = redact(line)
    assert "ann@example.org" not in cleaned and "Ab3dEf6h" not in cleaned
    assert "/confirm/[token]" in cleaned and "[email]" in cleaned
    # Task ids and hashes stay readable.
    assert (
        redact("task 3f2b8c9e-1d2a-4c5b-9e8f-0a1b2c3d4e5f")
        == "task 3f2b8c9e-1d2a-4c5b-9e8f-0a1b2c3d4e5f"
    )
    assert redact("a" * 64) == "a" * 64


def test_no_email_or_token_reaches_the_logs(app, client, action_url, smtp_sink, caplog):
    from petitions.mailer.services import drain

    caplog.set_level(logging.DEBUG)
    logging.getLogger("petitions").info("signing for %s", "leak@example.org")
    assert sign_via_form(client, action_url, email="Leak@Example.org").status_code == 303
    with app.app_context():
        drain()
        db.session.remove()
    token = TOKEN_IN_LINK.search(smtp_sink.wait_for(1)[0].text()).group(1)
    page = client.get(f"/confirm/{token}")
    client.post(f"/confirm/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    try:
        raise ValueError("bad address leak@example.org")
    except ValueError:
        logging.getLogger("petitions").exception("failed for /confirm/%s", token)
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records).lower()
    assert caplog.records
    assert "leak@example.org" not in text
    assert token.lower() not in text
    assert "[email]" in text and "[token]" in text


def test_signature_rows_keep_the_address(app, client, action_url):
    """Redaction is for logs only: the data itself is untouched."""
    from petitions.signing.models import Signature

    sign_via_form(client, action_url, email="kept@example.org")
    with app.app_context():
        assert db.session.scalar(select(Signature.email)) == "kept@example.org"
        db.session.remove()
