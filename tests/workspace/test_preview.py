"""A preview shows the live form, even for a draft or a closed action; submitting it checks
the fields as the live page does and says so, but stores nothing and sends nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from petitions.campaigns.models import ActionKind, CampaignStatus
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.signing.models import Signature
from tests.support.factories import make_action, make_campaign
from tests.support.web import sign_via_form
from tests.support.workspace import login, make_organiser


def _draft(app: Flask, **values: object) -> str:
    with app.app_context():
        owner = make_organiser("org@example.org")
        campaign = make_campaign(owner_id=owner.id, status=CampaignStatus.DRAFT.value)
        action = make_action(
            campaign,
            kind=ActionKind.PLEDGE.value,
            pledge_options=["I will boycott", "I will attend"],
            **values,
        )
        db.session.commit()
        return f"/organise/campaigns/{campaign.id}/actions/{action.id}/preview"


def _stored() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Signature)) or 0,
        db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
    )


def test_a_draft_preview_shows_the_form_and_submitting_stores_nothing(app: Flask) -> None:
    url = _draft(app)
    client = app.test_client()
    login(client, "org@example.org")
    page = client.get(url).get_data(as_text=True)
    assert 'class="sign-form"' in page and "I will boycott" in page
    assert "This is a preview: try the form" in page
    assert f'action="{url}"' in page
    assert "Closed to new signatures" not in page and "is closed" not in page

    done = sign_via_form(client, url, pledge_option="I will boycott")
    assert done.status_code == 200
    assert "Preview: nothing was signed." in done.get_data(as_text=True)
    bad = sign_via_form(client, url, email="not an address", pledge_option="")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Choose what you pledge to do." in text and "error-summary" in text
    with app.app_context():
        assert _stored() == (0, 0)


def test_a_closed_action_preview_still_shows_the_form(app: Flask) -> None:
    url = _draft(app, closed_at=utcnow())
    client = app.test_client()
    login(client, "org@example.org")
    page = client.get(url).get_data(as_text=True)
    assert 'class="sign-form"' in page and "the action is closed" in page


def test_closing_an_action_asks_once_first(app: Flask) -> None:
    from petitions.campaigns.models import Action
    from tests.support.workspace import csrf

    with app.app_context():
        owner = make_organiser("org@example.org")
        campaign = make_campaign(owner_id=owner.id)
        action = make_action(campaign, title="Fix the lights")
        db.session.commit()
        base = f"/organise/campaigns/{campaign.id}"
        action_id = action.id
    client = app.test_client()
    login(client, "org@example.org")
    assert f'href="{base}/actions/{action_id}/close"' in client.get(base).get_data(as_text=True)
    ask = client.get(f"{base}/actions/{action_id}/close")
    assert ask.status_code == 200 and "Close “Fix the lights”?" in ask.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Action, action_id).closed_at is None
    token = csrf(client, f"{base}/actions/{action_id}/close")
    done = client.post(f"{base}/actions/{action_id}/close", data={"csrf_token": token})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Action, action_id).closed_at is not None
