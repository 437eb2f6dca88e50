"""Searching signatures, invalidating and restoring them; counts follow through the fold."""

from __future__ import annotations

from flask import Flask

from petitions.audit.models import AuditEvent
from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from petitions.tallies.models import ActionTally
from tests.support.factories import make_action, make_campaign
from tests.support.workspace import confirmed_signature, csrf, login, make_organiser


def _setup(app: Flask) -> tuple[int, int, list[int]]:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        campaign = make_campaign(owner_id=ann.id)
        action = make_action(campaign)
        ids = [
            confirmed_signature(action, "ann.one@example.org", name="Ann One", source="email"),
            confirmed_signature(action, "bo@corp.example", name="Bo Two", source="fb"),
            confirmed_signature(action, "cy@corp.example", name="Cy Three", source="fb"),
        ]
        fold_counts()
        return campaign.id, action.id, ids


def _confirmed(app: Flask, action_id: int) -> int:
    with app.app_context():
        return db.session.get(ActionTally, action_id).confirmed


def test_search_by_name_email_domain_source_and_date(app: Flask) -> None:
    campaign_id, action_id, _ = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    base = f"/organise/campaigns/{campaign_id}/actions/{action_id}/signatures"

    def names(query: str) -> set[str]:
        html = client.get(base + query).get_data(as_text=True)
        return {n for n in ("Ann One", "Bo Two", "Cy Three") if n in html}

    assert names("") == {"Ann One", "Bo Two", "Cy Three"}
    assert names("?name=two") == {"Bo Two"}
    assert names("?email=ann.one") == {"Ann One"}
    assert names("?domain=corp.example") == {"Bo Two", "Cy Three"}
    assert names("?source=fb") == {"Bo Two", "Cy Three"}
    assert names("?from=2000-01-01&to=2000-01-02") == set()
    assert names("?name=%25") == set()  # LIKE wildcards are literal


def test_invalidate_and_restore_move_the_counts_and_are_audited(app: Flask) -> None:
    campaign_id, action_id, ids = _setup(app)
    assert _confirmed(app, action_id) == 3
    client = app.test_client()
    login(client, "ann@example.org")
    base = f"/organise/campaigns/{campaign_id}/actions/{action_id}/signatures"
    token = csrf(client, base)

    response = client.post(
        f"{base}/invalidate", data={"csrf_token": token, "ids": ids[1:], "reason": "duplicates"}
    )
    assert response.status_code == 303
    with app.app_context():
        fold_counts()
    assert _confirmed(app, action_id) == 1
    assert "invalidated" in client.get(f"{base}/{ids[1]}").get_data(as_text=True)

    client.post(f"{base}/restore", data={"csrf_token": token, "ids": [ids[1]]})
    with app.app_context():
        fold_counts()
        events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.event, sorted(e.subject_ids)) for e in events] == [
            ("signature.invalidate", sorted(ids[1:])),
            ("signature.restore", [ids[1]]),
        ]
        assert events[0].detail["reason"] == "duplicates"
    assert _confirmed(app, action_id) == 2


def test_signatures_of_another_action_cannot_be_touched(app: Flask) -> None:
    campaign_id, action_id, _ = _setup(app)
    with app.app_context():
        other = make_action(make_campaign())
        other_id = other.id
        foreign = confirmed_signature(other, "zed@example.org")
        fold_counts()
    client = app.test_client()
    login(client, "ann@example.org")
    base = f"/organise/campaigns/{campaign_id}/actions/{action_id}/signatures"
    client.post(f"{base}/invalidate", data={"csrf_token": csrf(client, base), "ids": [foreign]})
    assert client.get(f"{base}/{foreign}").status_code == 404
    with app.app_context():
        fold_counts()
        assert db.session.get(ActionTally, other_id).confirmed == 1
