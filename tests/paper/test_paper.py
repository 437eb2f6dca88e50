"""Paper signatures and offline tallies: recorded by organisers, folded by the count worker,
shown separately on the dashboard and as "including N on paper" on the public page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from petitions.audit.models import AuditEvent
from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts, reconcile_counts
from petitions.extensions import db
from petitions.paper.models import OfflineTally, PaperSignature
from petitions.tallies.models import ActionTally
from tests.conftest import WorkerProcess, wait_for
from tests.support.factories import make_action, make_campaign
from tests.support.workspace import confirmed_signature, csrf, login, make_organiser

TODAY = utcnow().date().isoformat()


def _setup(app: Flask) -> tuple[int, int, str]:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        make_organiser("eve@example.org")
        campaign = make_campaign(owner_id=ann.id)
        action = make_action(campaign, goal=1000)
        confirmed_signature(action, "online@example.org", name="Online Person")
        db.session.commit()
        fold_counts()
        return campaign.id, action.id, f"/c/{campaign.slug}/{action.slug}"


def _fold(app: Flask) -> None:
    with app.app_context():
        fold_counts()


def _tally(app: Flask, action_id: int) -> tuple[int, int]:
    with app.app_context():
        row = db.session.get(ActionTally, action_id)
        return (row.confirmed, row.paper) if row else (0, 0)


def _page(campaign_id: int, action_id: int) -> str:
    return f"/organise/campaigns/{campaign_id}/actions/{action_id}/paper"


def test_tallies_and_paper_signatures_count_and_show_separately(app: Flask) -> None:
    campaign_id, action_id, public = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    page = _page(campaign_id, action_id)
    token = csrf(client, page)
    assert "including" not in app.test_client().get(public).get_data(as_text=True)

    done = client.post(
        page + "/tallies",
        data={
            "csrf_token": token,
            "tally-count": "1,200",
            "tally-source": "Stall at Cardiff Market",
            "tally-collected_on": TODAY,
            "tally-note": "Two clipboards",
        },
    )
    assert done.status_code == 303
    done = client.post(
        page + "/signatures",
        data={
            "csrf_token": token,
            "paper-name": "Siân Llŷr",
            "paper-country": "GB",
            "paper-postcode": "cf10 1aa",
            "paper-consent_on_paper": "y",
            "paper-collected_on": TODAY,
        },
    )
    assert done.status_code == 303
    with app.app_context():
        paper = db.session.scalar(db.select(PaperSignature))
        assert (paper.name, paper.postcode, paper.postcode_area) == ("Siân Llŷr", "CF10 1AA", "CF")
        events = set(db.session.scalars(db.select(AuditEvent.event)))
        assert {"paper.tally", "paper.signature"} <= events

    assert _tally(app, action_id) == (1, 0)  # nothing until the worker folds
    _fold(app)
    assert _tally(app, action_id) == (1202, 1201)
    body = app.test_client().get(public).get_data(as_text=True)
    assert "1,202" in body and "including 1,201 on paper" in body

    dashboard = client.get(
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard.json"
    ).get_json()
    assert dashboard["confirmed"] == 1202 and dashboard["paper"] == 1201
    assert dashboard["confirmation_rate"] == 1.0  # paper is not counted as "confirmed online"
    listing = client.get(page).get_data(as_text=True)
    assert "Stall at Cardiff Market" in listing and "Siân Llŷr" in listing

    # The reconciliation agrees with the fold (nothing to repair) ...
    with app.app_context():
        assert reconcile_counts() == []
        tally_id = db.session.scalar(db.select(OfflineTally.id))
    # ... and removing the tally folds it back out, once.
    remove = page + f"/tallies/{tally_id}/remove"
    assert client.post(remove, data={"csrf_token": token}).status_code == 303
    assert client.post(remove, data={"csrf_token": token}).status_code == 303
    _fold(app)
    assert _tally(app, action_id) == (2, 1)
    assert "including 1 on paper" in app.test_client().get(public).get_data(as_text=True)


def test_reconciliation_repairs_a_corrupted_paper_count(app: Flask) -> None:
    campaign_id, action_id, _ = _setup(app)
    with app.app_context():
        db.session.add(
            OfflineTally(
                action_id=action_id, count=50, source="Postcards", collected_on=utcnow().date()
            )
        )
        db.session.commit()
        fold_counts()
        db.session.execute(
            db.update(ActionTally).where(ActionTally.action_id == action_id).values(paper=7)
        )
        db.session.commit()
        repairs = reconcile_counts()
        assert [r.table for r in repairs] == ["action_tallies"]
    assert _tally(app, action_id) == (51, 50)


@pytest.mark.parametrize(
    ("path", "fields", "message"),
    [
        ("/tallies", {"tally-count": "0"}, "Enter a number from 1 to 1,000,000."),
        ("/tallies", {"tally-count": "99999999999999999999"}, "whole number from 1 to"),
        ("/tallies", {"tally-count": "１２"}, "whole number from 1 to"),
        ("/tallies", {"tally-source": "Stall\r\nSet-Cookie: x"}, "no line breaks"),
        ("/tallies", {"tally-source": "x" * 101}, "Field cannot be longer than 100"),
        ("/tallies", {"tally-collected_on": "2999-01-01"}, "can&#39;t be in the future"),
        ("/tallies", {"tally-collected_on": "yesterday"}, "Enter the date as a date"),
        ("/signatures", {"paper-consent_on_paper": ""}, "consent box is ticked"),
        ("/signatures", {"paper-postcode": "not a postcode"}, "full UK postcode"),
        ("/signatures", {"paper-name": "A" * 101}, "Field cannot be longer than 100"),
        ("/signatures", {"paper-country": "XX"}, "Not a valid choice"),
    ],
)
def test_bad_input_is_a_clear_400(app: Flask, path: str, fields: dict, message: str) -> None:
    campaign_id, action_id, _ = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    page = _page(campaign_id, action_id)
    data = {
        "csrf_token": csrf(client, page),
        "tally-count": "5",
        "tally-source": "Stall",
        "tally-collected_on": TODAY,
        "paper-name": "Ann",
        "paper-country": "GB",
        "paper-postcode": "SW1A 1AA",
        "paper-consent_on_paper": "y",
        "paper-collected_on": TODAY,
    }
    data.update(fields)
    answer = client.post(page + path, data=data)
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OfflineTally)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(PaperSignature)) == 0


def test_csrf_access_and_hostile_ids(app: Flask) -> None:
    campaign_id, action_id, _ = _setup(app)
    page = _page(campaign_id, action_id)
    client = app.test_client()
    login(client, "ann@example.org")
    fields = {"tally-count": "5", "tally-source": "Stall", "tally-collected_on": TODAY}
    assert client.post(page + "/tallies", data=fields).status_code == 400  # no CSRF token
    token = csrf(client, page)
    for bad in ("99999999999999999999999", "1%0d%0a", "-1"):
        answer = client.post(page + f"/tallies/{bad}/remove", data={"csrf_token": token})
        assert answer.status_code == 404, bad
    assert client.post(page + "/other/1/remove", data={"csrf_token": token}).status_code == 404
    assert client.get(_page(campaign_id, 2**40)).status_code == 404
    other = app.test_client()
    login(other, "eve@example.org")
    assert other.get(page).status_code == 404  # not her campaign
    assert app.test_client().get(page).status_code == 302  # not logged in


@pytest.mark.integration
def test_the_worker_folds_a_tally_into_the_public_count(
    live_app: Flask, worker: WorkerProcess
) -> None:
    app = live_app
    campaign_id, action_id, public = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    page = _page(campaign_id, action_id)
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    client.post(
        page + "/tallies",
        data={
            "csrf_token": csrf(client, page),
            "tally-count": "40",
            "tally-source": "Postcards",
            "tally-collected_on": yesterday,
        },
    )
    wait_for(
        lambda: "including 40 on paper" in app.test_client().get(public).get_data(as_text=True)
    )
    assert _tally(app, action_id) == (41, 40)


def test_paper_names_are_anonymised_with_the_action_after_retention(app: Flask) -> None:
    from petitions.supporters.services import anonymise_closed_actions

    with app.app_context():
        action = make_action(make_campaign())
        row = PaperSignature(
            action_id=action.id,
            name="Gwen Ap",
            postcode="CF10 1AA",
            postcode_area="CF",
            consent_on_paper=True,
            collected_on=utcnow().date(),
        )
        db.session.add(row)
        db.session.commit()
        assert anonymise_closed_actions() == 0  # still open
        action.closed_at = utcnow() - timedelta(days=400)
        db.session.commit()
        assert anonymise_closed_actions() == 1
        db.session.commit()
        db.session.refresh(row)
        assert (row.name, row.postcode, row.postcode_area) == ("", "", "CF")
        assert anonymise_closed_actions() == 0
