"""The sign form's page from the hot path's copy is the app's page, with its own visitor's parts.

The app (``HOTPATH_ENABLED`` off) and the copy must agree byte for byte once the four
per-visitor values are set aside (the CSRF token, the form stamp, the CSP nonce and the session
cookie's value); those must be fresh for each visitor and accepted when the form is posted,
through the hot path and through the normal view alike.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import func, select, text

from petitions.extensions import db
from petitions.hotpath import form_pages
from petitions.hotpath.wsgi import read_session
from petitions.questions.models import ActionQuestion
from petitions.signing.models import Signature
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from

_STARTED = re.compile(r'name="started" type="hidden" value="([^"]+)"')
_RANDOM = [
    (re.compile(r"nonce-[A-Za-z0-9_-]+"), "nonce-N"),
    (re.compile(r'nonce="[A-Za-z0-9_-]+"'), 'nonce="N"'),
    (re.compile(r'(name="(?:csrf_token|started)" type="hidden" value=")[^"]*'), r"\1X"),
    (re.compile(r"^session=[^;]*"), "session=S"),
]
ACTION = "/c/stop-it/now"


@pytest.fixture
def actions(factories) -> None:
    campaign = make_campaign(slug="stop-it")
    make_action(campaign, slug="now", position=1, title="Stop it now")
    make_action(campaign, slug="pledge", position=2, kind="pledge", pledge_options=["I will"])
    db.session.commit()


def _plain(value: str) -> str:
    for pattern, replacement in _RANDOM:
        value = pattern.sub(replacement, value)
    return value


def _get(client: Any, url: str = ACTION, **kwargs: Any) -> Any:
    g.__dict__.clear()  # a new request's globals (the test's app context is shared)
    return client.get(url, **kwargs)


def _shape(response: Any) -> tuple[int, list[tuple[str, str]], str]:
    headers = sorted((k, _plain(v)) for k, v in response.headers.items())
    return response.status_code, headers, _plain(response.text)


def _parts(app: Flask, response: Any) -> dict[str, Any]:
    """The visitor's values in a page: its token, stamp, nonce and the session it was given."""
    cookie = response.headers.get("Set-Cookie", "").partition(";")[0]
    match = _STARTED.search(response.text)
    return {
        "token": csrf_from(response.text),
        "stamp": match.group(1) if match else None,
        "nonce": re.search(r"nonce-([^']+)", response.headers["Content-Security-Policy"])[1],
        "cookie": cookie,
        "session": read_session(app, {"HTTP_COOKIE": cookie}) if cookie else None,
    }


def _normal_then_copies(app: Flask, monkeypatch, make_client, n: int = 2, **kwargs: Any):
    """The app's page, then the hot path's first (learned) and ``n`` copies, each from
    ``make_client()``; with how many the copy answered."""
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", False)
    normal = _get(make_client(), **kwargs)
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", True)
    forms = app.extensions["hotpath"].forms
    forms.clear()
    hits = forms.hits
    answers = [_get(make_client(), **kwargs) for _ in range(n + 1)]
    return normal, answers, forms.hits - hits


def _form_fields(page: Any) -> dict[str, str]:
    return {
        "csrf_token": csrf_from(page.text),
        "started": _STARTED.search(page.text)[1],
        "source": "",
        "website": "",
        "name": "Ann Example",
        "email": "ann@example.org",
        "country": "GB",
        "postcode": "SW1A 1AA",
    }


@pytest.mark.parametrize("base_url", ["http://localhost", "https://localhost"])
def test_a_new_visitors_copy_is_the_page_but_for_their_own_values(
    app, actions, monkeypatch, base_url
):
    if base_url.startswith("https"):  # a secure cookie, as production sets it
        monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    normal, answers, hits = _normal_then_copies(
        app, monkeypatch, app.test_client, n=2, base_url=base_url
    )
    if base_url.startswith("https"):
        assert "Secure" in normal.headers["Set-Cookie"]
    assert hits == 2
    assert normal.status_code == 200 and "Stop it now" in normal.text
    for answer in answers:
        assert _shape(answer) == _shape(normal)
        assert answer.headers["Content-Length"] == str(len(answer.get_data()))
    seen = [_parts(app, r) for r in [normal, *answers]]
    for key in ("token", "stamp", "nonce", "cookie"):
        assert len({p[key] for p in seen}) == len(seen), f"{key} repeated"
    secrets = {p["session"]["csrf_token"] for p in seen}
    assert len(secrets) == len(seen), "two visitors share a session"
    for parts in seen:  # the session the app gives a new visitor, in every copy
        assert parts["session"] == {"_fresh": False, "csrf_token": parts["session"]["csrf_token"]}


def test_a_returning_visitor_keeps_their_session(app, actions, monkeypatch):
    client = app.test_client()
    first = _get(client, "/c/stop-it")  # no session yet
    assert "Set-Cookie" not in first.headers
    first = _get(client)
    secret = _parts(app, first)["session"]["csrf_token"]
    normal, answers, hits = _normal_then_copies(app, monkeypatch, lambda: client)
    assert hits == 2
    for answer in answers:
        assert _shape(answer) == _shape(normal)
        assert "Set-Cookie" not in answer.headers  # the session is unchanged, as the app leaves it
        # Their secret, signed now (the same token within one second, as the app gives).
        assert _parts(app, answer)["stamp"] != _parts(app, normal)["stamp"]
    with client.session_transaction() as session:
        assert session["csrf_token"] == secret


@pytest.mark.parametrize("hotpath", [True, False])
def test_a_form_from_the_copy_signs(app, actions, monkeypatch, hotpath):
    """Posted to the hot path and to the normal view: one signature, no stamp problem."""
    clients = [app.test_client() for _ in range(3)]
    pages = [_get(c) for c in clients]  # the first learns, the others are copies
    assert app.extensions["hotpath"].forms.hits >= 2
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", hotpath)
    hot = app.extensions["hotpath"]
    taken = hot.taken
    for n, (client, page) in enumerate(zip(clients, pages, strict=True)):
        fields = _form_fields(page) | {"email": f"ann{n}@example.org"}
        g.__dict__.clear()
        response = client.post(ACTION, data=fields)
        assert response.status_code == 303, response.text
    assert hot.taken - taken == (3 if hotpath else 0)
    db.session.rollback()
    signatures = db.session.scalars(select(Signature)).all()
    assert len(signatures) == 3
    for signature in signatures:
        assert "stamp" not in (signature.review_reason or "")
        assert not signature.suspect


def test_another_visitors_token_or_stamp_is_not_theirs(app, actions):
    """A copy's values are bound to its own session: swapped, the app sees it."""
    one, two = app.test_client(), app.test_client()
    _get(one)
    page_one, page_two = _get(one), _get(two)
    fields = _form_fields(page_one) | {"csrf_token": csrf_from(page_two.text)}
    g.__dict__.clear()
    assert (
        two.post(ACTION, data=_form_fields(page_two) | {"started": fields["started"]}).status_code
        == 303
    )
    db.session.rollback()
    signature = db.session.scalars(select(Signature)).one()
    assert "form stamp from another session" in (signature.review_reason or "")
    g.__dict__.clear()
    assert one.post(ACTION, data=fields | {"email": "bob@example.org"}).status_code == 400


def test_a_closed_action_is_copied_no_longer_than_the_ttl(app, actions, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(form_pages.time, "monotonic", lambda: clock[0])
    client = app.test_client()
    _get(client)
    page = _get(client)  # a copy, now
    db.session.execute(text("UPDATE actions SET closed_at = now() WHERE slug = 'now'"))
    db.session.commit()
    forms = app.extensions["hotpath"].forms
    hits = forms.hits
    # Within the TTL the copy may still show the form; signing it is refused all the same
    # (the INSERT's own open check), by the hot path and by the view.
    stale = _get(client)
    assert forms.hits == hits + 1 and "sign-form" in stale.text
    for hotpath in (True, False):
        monkeypatch.setitem(app.config, "HOTPATH_ENABLED", hotpath)
        g.__dict__.clear()
        assert client.post(ACTION, data=_form_fields(page)).status_code == 409
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    clock[0] += float(app.config["HOTPATH_PAGE_SECONDS"])
    closed = _get(client)
    assert forms.hits == hits + 1, "the app answered"
    assert "sign-form" not in closed.text and "closed" in closed.text
    assert _get(client).text == closed.text  # and a closed page is never kept


@pytest.mark.parametrize(
    "extra",
    [
        {"_flashes": [("info", "Signed out.")]},
        {"supporter_id": 1, "supporter_until": 0},
        {"_user_id": "1", "_fresh": True},
    ],
)
def test_a_signed_in_or_flashed_session_gets_the_apps_page(app, actions, extra):
    client = app.test_client()
    _get(client)
    _get(client)  # a copy is kept for this session's shape
    forms = app.extensions["hotpath"].forms
    hits = forms.hits
    with client.session_transaction() as session:
        session.update(extra)
    page = _get(client)
    assert forms.hits == hits, "the app answered"
    assert page.status_code == 200
    if "_flashes" in extra:
        assert "Signed out." in page.text


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"query_string": {"source": "newsletter"}},
        {"headers": {"Accept-Language": "cy"}},
        {"cookie": ("remember_token", "1|abc")},
    ],
    ids=["query", "welsh", "remember-me"],
)
def test_other_requests_are_the_apps(app, actions, monkeypatch, request_kwargs):
    request_kwargs = dict(request_kwargs)
    cookie = request_kwargs.pop("cookie", None)

    def make_client() -> Any:
        client = app.test_client()
        if cookie is not None:
            client.set_cookie(*cookie)
        return client

    normal, answers, hits = _normal_then_copies(app, monkeypatch, make_client, **request_kwargs)
    assert hits == 0
    for answer in answers:
        assert _shape(answer) == _shape(normal)


def test_a_referrer_has_its_own_copy(app, actions, monkeypatch):
    """The form's hidden source names the site a visitor came from."""
    normal, answers, hits = _normal_then_copies(
        app, monkeypatch, app.test_client, headers={"Referer": "https://news.example/story"}
    )
    assert hits == 2
    assert 'name="source" type="hidden" value="ref:news.example"' in normal.text
    for answer in answers:
        assert _shape(answer) == _shape(normal)
    assert 'value="ref:news.example"' not in _get(app.test_client()).text


def test_questions_keep_the_page_the_apps(app, actions, monkeypatch):
    action_id = db.session.scalar(text("SELECT id FROM actions WHERE slug = 'now'"))
    db.session.add(ActionQuestion(action_id=action_id, key="why", label="Why?"))
    db.session.commit()
    normal, answers, hits = _normal_then_copies(app, monkeypatch, app.test_client)
    assert hits == 0
    assert "Why?" in normal.text


def test_the_pledge_form_is_copied_too(app, actions, monkeypatch):
    normal, answers, hits = _normal_then_copies(
        app, monkeypatch, app.test_client, url="/c/stop-it/pledge"
    )
    assert hits == 2
    assert "I will" in normal.text
    for answer in answers:
        assert _shape(answer) == _shape(normal)


def test_the_campaign_page_copy_is_the_page(app, actions, monkeypatch):
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", False)
    normal = _get(app.test_client(), "/c/stop-it")
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", True)
    pages = app.extensions["hotpath"].campaigns
    pages.clear()
    hits = pages.hits
    answers = [_get(app.test_client(), "/c/stop-it") for _ in range(3)]
    assert pages.hits - hits == 2
    assert normal.status_code == 200 and "Stop it now" in normal.text
    for answer in answers:
        assert _shape(answer) == _shape(normal)
