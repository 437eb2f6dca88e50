"""The campaign and action forms say what is wrong, and make readable web addresses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from petitions.campaigns.models import Action, Campaign
from petitions.core.text import slugify
from petitions.core.time import utcnow
from petitions.extensions import db
from tests.support.factories import make_action, make_campaign
from tests.support.workspace import csrf, login, make_organiser


@pytest.fixture
def organiser_client(app: Flask) -> Any:
    with app.app_context():
        make_organiser("ann@example.org", admin=True)
    client = app.test_client()
    login(client, "ann@example.org")
    return client


def _post_action(client: Any, campaign_id: int, action_id: int | None = None, **fields: str):  # type: ignore[no-untyped-def]
    url = (
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/edit"
        if action_id
        else f"/organise/campaigns/{campaign_id}/actions/new"
    )
    data = {
        "csrf_token": csrf(client, url),
        "kind": "petition",
        "title": "Repair the pier",
        "slug": "",
        "target": "",
        "text": "We ask the council to repair the pier.",
        "goal": "500",
        "deadline": "",
        "pledge_options": "",
        "consent": "We keep your details to count your signature.",
        "thank_you": "",
        "position": "1",
    }
    data.update(fields)
    return client.post(url, data=data)


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        ("0", "The goal must be at least 1."),
        ("-5", "The goal must be at least 1."),
        ("abc", "Enter the goal as a whole number of signatures, e.g. 1000."),
        ("1.5", "Enter the goal as a whole number of signatures, e.g. 1000."),
        ("", "Enter a goal: how many signatures you are aiming for, e.g. 1000."),
        ("999999999999", "The goal can be at most 100,000,000."),
    ],
)
def test_goal_errors_say_what_is_wrong(
    app: Flask, organiser_client: Any, goal: str, message: str
) -> None:
    with app.app_context():
        campaign_id = make_campaign().id
        db.session.commit()
    response = _post_action(organiser_client, campaign_id, goal=goal)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert "This field is required" not in html


def test_goal_accepts_thousands_separators(app: Flask, organiser_client: Any) -> None:
    with app.app_context():
        campaign_id = make_campaign().id
        db.session.commit()
    assert _post_action(organiser_client, campaign_id, goal="10,000").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Action.goal)) == 10_000


def test_past_deadline_refused_for_a_new_action(app: Flask, organiser_client: Any) -> None:
    with app.app_context():
        campaign_id = make_campaign().id
        db.session.commit()
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    response = _post_action(organiser_client, campaign_id, deadline=yesterday)
    assert response.status_code == 400
    assert "The deadline is in the past" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Action.id))) == 0

    today = utcnow().date().isoformat()
    assert _post_action(organiser_client, campaign_id, deadline=today).status_code == 303


def test_an_existing_past_deadline_can_be_kept_but_not_moved_into_the_past(
    app: Flask, organiser_client: Any
) -> None:
    last_week = utcnow().date() - timedelta(days=7)
    with app.app_context():
        action = make_action(deadline=last_week)
        ids = (action.campaign_id, action.id)
        db.session.commit()
    kept = _post_action(organiser_client, *ids, deadline=last_week.isoformat(), title="Renamed")
    assert kept.status_code == 303
    earlier = (last_week - timedelta(days=1)).isoformat()
    moved = _post_action(organiser_client, *ids, deadline=earlier)
    assert moved.status_code == 400
    assert "The deadline is in the past" in moved.get_data(as_text=True)


def test_bad_deadline_says_how_to_write_it(app: Flask, organiser_client: Any) -> None:
    with app.app_context():
        campaign_id = make_campaign().id
        db.session.commit()
    response = _post_action(organiser_client, campaign_id, deadline="next tuesday")
    assert response.status_code == 400
    assert "Enter the deadline as a date, e.g. 2027-03-31." in response.get_data(as_text=True)


def test_accented_titles_are_transliterated_in_the_web_address(
    app: Flask, organiser_client: Any
) -> None:
    url = "/organise/campaigns/new"
    response = organiser_client.post(
        url,
        data={
            "csrf_token": csrf(organiser_client, url),
            "title": "Émojis & ünïcode",
            "slug": "",
            "summary": "",
            "body": "",
            "image_url": "",
            "status": "live",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        campaign = db.session.scalar(db.select(Campaign))
        assert campaign.slug == "emojis-unicode"
        campaign_id = campaign.id
    assert app.test_client().get("/c/emojis-unicode").status_code == 200
    assert _post_action(organiser_client, campaign_id, title="Straße für Zoë").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Action.slug)) == "strasse-fur-zoe"


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Émojis & ünïcode", "emojis-unicode"),
        ("Save the pier!", "save-the-pier"),
        ("🙂🙂", "campaign"),
        ("Ça va? Très bien.", "ca-va-tres-bien"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slugify_keeps_within_the_length_on_a_word_boundary() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= 80 and not slug.endswith("-") and slug.startswith("word-word")


def test_body_hint_says_what_happens_to_html(organiser_client: Any) -> None:
    html = organiser_client.get("/organise/campaigns/new").get_data(as_text=True)
    assert "HTML is removed" not in html
    assert "HTML is not applied: tags such as &lt;script&gt; or &lt;b&gt; show as the typed" in html
