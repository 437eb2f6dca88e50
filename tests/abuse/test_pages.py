"""The organiser pages: alerts, preview, run, progress, undo; and nobody else's actions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from petitions.abuse.jobs import run_job
from petitions.abuse.models import InvalidationJob, TrendingAlert
from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.support.factories import make_action, make_campaign, make_signature
from tests.support.workspace import csrf, login, make_organiser


@pytest.fixture
def setup(app, client):
    # No app context is held during requests: Flask would share ``g`` (and its cached CSRF
    # token) between them.
    with app.app_context():
        data = _make()
        db.session.remove()
    return data


def _make():
    owner = make_organiser("owner@example.org")
    make_organiser("stranger@example.org")
    campaign = make_campaign(owner_id=owner.id)
    action = make_action(campaign)
    for i in range(3):
        make_signature(action, f"b{i}@bots.example", ip_address="203.0.113.5")
    make_signature(action, "ann@good.example", ip_address="198.51.100.1")
    db.session.add(
        TrendingAlert(
            action_id=action.id,
            kind="ip",
            value="203.0.113.5",
            recent=3,
            window_total=4,
            share=0.75,
        )
    )
    db.session.commit()
    return {"action_id": action.id}


def _db(app, fn):
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def test_overview_shows_alert_and_is_not_cached(client, setup):
    login(client, "owner@example.org")
    page = client.get(f"/organise/actions/{setup['action_id']}/abuse")
    assert page.status_code == 200
    assert "203.0.113.5" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_preview_run_and_undo(client, setup, app):
    login(client, "owner@example.org")
    url = f"/organise/actions/{setup['action_id']}/invalidate"
    token = csrf(client, url)
    preview = client.post(url, data={"csrf_token": token, "ip": "203.0.113.0/24"})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "3 signatures match" in body
    assert "Invalidate 3 signatures" in body
    assert _db(app, lambda: db.session.scalar(select(InvalidationJob.id))) is None

    run = client.post(
        url, data={"csrf_token": token, "ip": "203.0.113.0/24", "step": "run", "reason": "bots"}
    )
    assert run.status_code == 303
    job_url = run.headers["Location"]
    job_id, matched, status = _db(
        app,
        lambda: db.session.execute(
            select(InvalidationJob.id, InvalidationJob.matched, InvalidationJob.status)
        ).one(),
    )
    assert (matched, status) == (3, "queued")  # the worker takes it from here
    _db(app, lambda: run_job(job_id))
    status = client.get(job_url, headers={"Accept": "application/json"}).get_json()
    assert status["status"] == "done" and status["changed"] == 3 and status["progress"] == 100
    page = client.get(job_url).get_data(as_text=True)
    assert "Undo this invalidation" in page
    undo = client.post(job_url + "/undo", data={"csrf_token": token})
    assert undo.status_code == 303
    assert _db(app, lambda: db.session.get(InvalidationJob, job_id).status) == "undo_queued"


def test_empty_criteria_are_refused(client, setup):
    login(client, "owner@example.org")
    url = f"/organise/actions/{setup['action_id']}/invalidate"
    response = client.post(url, data={"csrf_token": csrf(client, url)})
    assert response.status_code == 400
    assert "at least one thing" in response.get_data(as_text=True)


def test_another_organisers_action_is_404(client, setup, app):
    login(client, "stranger@example.org")
    action_id = setup["action_id"]
    assert client.get(f"/organise/actions/{action_id}/abuse").status_code == 404
    assert client.get(f"/organise/actions/{action_id}/invalidate").status_code == 404
    token = csrf(client, "/organise/")
    response = client.post(
        f"/organise/actions/{action_id}/invalidate",
        data={"csrf_token": token, "ip": "203.0.113.5", "step": "run"},
    )
    assert response.status_code == 404
    alert_id = _db(app, lambda: db.session.scalar(select(TrendingAlert.id)))
    dismissed = client.post(
        f"/organise/actions/{action_id}/alerts/{alert_id}/dismiss", data={"csrf_token": token}
    )
    assert dismissed.status_code == 404
    assert _db(app, lambda: db.session.scalar(select(InvalidationJob.id))) is None
    invalidated = _db(
        app,
        lambda: db.session.scalar(
            select(Signature.id).where(Signature.invalidated_at.is_not(None))
        ),
    )
    assert invalidated is None


def test_logged_out_is_sent_to_login(client, setup):
    response = client.get(f"/organise/actions/{setup['action_id']}/abuse")
    assert response.status_code == 302
    assert re.search(r"/organise/login", response.headers["Location"])


def test_dismiss_needs_csrf(client, setup, app):
    login(client, "owner@example.org")
    alert_id = _db(app, lambda: db.session.scalar(select(TrendingAlert.id)))
    url = f"/organise/actions/{setup['action_id']}/alerts/{alert_id}/dismiss"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": csrf(client, "/organise/")}).status_code == 303


def test_dashboard_shows_the_alert(client, setup, app):
    login(client, "owner@example.org")
    campaign_id = _db(app, lambda: db.session.get(Action, setup["action_id"]).campaign_id)
    page = client.get(f"/organise/campaigns/{campaign_id}/dashboard").get_data(as_text=True)
    assert "Unusual activity on" in page
    assert f"/organise/actions/{setup['action_id']}/abuse" in page
