"""An organiser's change reaches the hot path's copies of pages at once in this process, and
within a quarter of a second in any other (``petitions.hotpath.freshness``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import g
from sqlalchemy import select, text

from petitions.campaigns.models import Action
from petitions.core.redis import get_redis
from petitions.extensions import db
from petitions.hotpath.freshness import GENERATION_KEY
from tests.support.factories import make_action, make_campaign

ACTION = "/c/fresh/now"


@pytest.fixture
def action(factories, app) -> None:
    campaign = make_campaign(slug="fresh")
    make_action(campaign, slug="now", position=1, title="The old words")
    db.session.commit()
    app.extensions["hotpath"].clear()


def _get(client: Any, url: str = ACTION) -> Any:
    g.__dict__.clear()  # a new request's globals (the test's app context is shared)
    return client.get(url)


def _copied(app: Any, client: Any) -> None:
    """Fetch the page until the hot path answers it from its copy (a new visitor's page,
    then a returning one's, which is the copy kept for them)."""
    forms = app.extensions["hotpath"].forms
    _get(client)
    _get(client)
    hits = forms.hits
    assert "The old words" in _get(client).text and forms.hits == hits + 1


def test_an_organisers_change_is_on_the_next_page_here(app, action, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "HOTPATH_PAGE_SECONDS", 60.0)
    client = app.test_client()
    _copied(app, client)
    before = int(get_redis().get(GENERATION_KEY) or 0)
    found = db.session.scalar(select(Action).where(Action.slug == "now"))
    found.title = "The new words"
    db.session.commit()  # as the workspace's unit of work does
    assert "The new words" in _get(client).text
    assert int(get_redis().get(GENERATION_KEY) or 0) == before + 1  # the others are told


def test_a_change_made_in_another_process_is_seen_within_a_moment(app, action, monkeypatch):
    monkeypatch.setitem(app.config, "HOTPATH_PAGE_SECONDS", 60.0)
    client = app.test_client()
    _copied(app, client)
    # Another server process's commit: the row changes under us and the counter moves.
    db.session.execute(text("UPDATE actions SET title = 'Words from elsewhere' WHERE slug = 'now'"))
    db.session.commit()
    get_redis().incr(GENERATION_KEY)
    deadline = time.monotonic() + 5  # the copy itself would live 60 s
    while "Words from elsewhere" not in _get(client).text:
        assert time.monotonic() < deadline, "the copy outlived the change"
    # A signature is not a change to the page: the copies stay.
    forms = app.extensions["hotpath"].forms
    hits = forms.hits
    _get(client)
    assert forms.hits == hits + 1
