"""The thank-you page and the count, answered from the hot path's copy, are the app's answers.

Each test asks the app (``HOTPATH_ENABLED`` off) and then the hot path twice (the first
learns, the second is a copy: ``hits`` says so), and compares status, headers and body with
the CSP nonce set aside; a copy must carry a fresh nonce each time.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import func, select, text

from petitions.donations.models import DonationAsk, DonationHit
from petitions.extensions import db
from tests.support.factories import make_action, make_campaign
from tests.support.web import sign_via_form

_NONCE = re.compile(r"nonce-[A-Za-z0-9_-]+|nonce=\"[A-Za-z0-9_-]+\"")


@pytest.fixture
def urls(factories) -> dict[str, str]:
    campaign = make_campaign(slug="stop-it")
    make_action(campaign, slug="now", position=1, thank_you="Thanks, truly.")
    make_action(campaign, slug="next", position=2, title="The next one")
    db.session.commit()
    return {
        "action": "/c/stop-it/now",
        "thanks": "/c/stop-it/now/thanks",
        "count": "/api/v1/campaigns/stop-it/actions/now/count",
    }


def _answer(client: Any, url: str, **kwargs: Any) -> tuple[int, list[tuple[str, str]], str]:
    g.__dict__.clear()  # a new request's globals (the test's app context is shared)
    response = client.get(url, **kwargs)
    # The Date header names the second the answer was made: the view's and the copy's may be
    # made either side of a second's turn (a copy replays its own, like any HTTP cache).
    headers = sorted(
        (k, "D" if k == "Date" else _NONCE.sub("N", v)) for k, v in response.headers.items()
    )
    return response.status_code, headers, _NONCE.sub("N", response.text)


def _nonce(response: Any) -> str:
    match = re.search(r"nonce-([A-Za-z0-9_-]+)", response.headers["Content-Security-Policy"])
    assert match
    return match.group(1)


def _both(app: Flask, monkeypatch, client: Any, url: str, cache: str, **kwargs: Any):
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", False)
    normal = _answer(client, url, **kwargs)
    monkeypatch.setitem(app.config, "HOTPATH_ENABLED", True)
    hot = app.extensions["hotpath"]
    hot.clear()
    pages = getattr(hot, cache)
    hits = pages.hits
    learned = _answer(client, url, **kwargs)
    copied = _answer(client, url, **kwargs)
    return normal, learned, copied, pages.hits - hits


@pytest.mark.parametrize("session", ["browser", "no-cookie"])
def test_the_thank_you_page_copy_is_the_page(app, urls, monkeypatch, session):
    client = app.test_client()
    if session == "browser":
        assert sign_via_form(client, urls["action"]).status_code == 303
    normal, learned, copied, hits = _both(app, monkeypatch, client, urls["thanks"], "thanks")
    assert hits == 1
    assert normal == learned == copied
    assert normal[0] == 200 and "Thanks, truly." in normal[2] and "The next one" in normal[2]


def test_each_copy_has_a_fresh_nonce_in_header_and_scripts(app, urls):
    client = app.test_client()
    client.get(urls["thanks"])
    nonces = set()
    for _ in range(3):
        g.__dict__.clear()
        response = client.get(urls["thanks"])
        nonce = _nonce(response)
        assert f'nonce="{nonce}"' in response.text
        nonces.add(nonce)
    assert len(nonces) == 3


@pytest.mark.parametrize(
    "extra",
    [{"_flashes": [("info", "Signed out.")]}, {"supporter_id": 1, "supporter_until": 0}],
)
def test_a_signed_in_or_flashed_session_gets_its_own_page(app, urls, extra):
    client = app.test_client()
    client.get(urls["action"])
    pages = app.extensions["hotpath"].thanks
    _answer(client, urls["thanks"])
    _answer(client, urls["thanks"])  # a copy is kept for this session's shape
    hits = pages.hits
    with client.session_transaction() as session:
        session.update(extra)
    page = _answer(client, urls["thanks"])
    assert pages.hits == hits, "the app answered"
    assert page[0] == 200
    if "_flashes" in extra:
        assert "Signed out." in page[2]


def test_a_page_with_a_donation_ask_is_never_copied(app, urls, monkeypatch):
    campaign_id = db.session.scalar(text("SELECT id FROM campaigns WHERE slug = 'stop-it'"))
    db.session.add(
        DonationAsk(campaign_id=campaign_id, text="Chip in", url="https://donorbox.org/x")
    )
    db.session.commit()
    client = app.test_client()
    normal, learned, copied, hits = _both(app, monkeypatch, client, urls["thanks"], "thanks")
    assert "Chip in" in normal[2]
    assert hits == 0
    assert normal == learned == copied
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(DonationHit)) == 3  # every view


def test_not_found_and_query_strings_are_the_apps(app, urls, monkeypatch):
    client = app.test_client()
    for url in ["/c/stop-it/missing/thanks", urls["thanks"] + "?x=1"]:
        normal, learned, copied, hits = _both(app, monkeypatch, client, url, "thanks")
        assert hits == 0
        assert normal == learned == copied


@pytest.mark.parametrize("conditional", [False, True])
def test_the_count_copy_is_the_count(app, urls, monkeypatch, conditional):
    client = app.test_client()
    headers = {"Origin": "https://partner.example"}
    if conditional:
        etag = client.get(urls["count"]).headers["ETag"]
        headers["If-None-Match"] = etag
    normal, learned, copied, hits = _both(
        app, monkeypatch, client, urls["count"], "counts", headers=headers
    )
    assert hits == 1
    assert normal == learned == copied
    assert normal[0] == (304 if conditional else 200)


def test_a_kept_copy_expires(app, urls, monkeypatch):
    """The page is at most HOTPATH_PAGE_SECONDS old: at 0 nothing is kept."""
    monkeypatch.setitem(app.config, "HOTPATH_PAGE_SECONDS", 0.0)
    client = app.test_client()
    pages = app.extensions["hotpath"].thanks
    hits = pages.hits
    _answer(client, urls["thanks"])
    db.session.execute(text("UPDATE actions SET thank_you = 'Changed.' WHERE slug = 'now'"))
    db.session.commit()
    assert "Changed." in _answer(client, urls["thanks"])[2]
    assert pages.hits == hits
