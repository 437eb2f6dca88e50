"""Pledges per option: a tally the count worker keeps like the other breakdowns, shown on the
dashboard (chart data and table) and publicly ("2 will boycott, 1 will attend")."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from petitions.campaigns.models import ActionKind
from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts, reconcile_counts
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tallies.models import TallyPledge
from petitions.tallies.queries import pledge_counts
from tests.support.factories import make_action, make_campaign
from tests.support.workspace import confirmed_signature, login, make_organiser

OPTIONS = ["I will boycott", "I will attend the protest", "Share the word"]


def _pledge(app: Flask):
    with app.app_context():
        owner = make_organiser("ann@example.org")
        campaign = make_campaign(owner_id=owner.id, slug="fair", title="Fair")
        pledge = make_action(
            campaign, kind=ActionKind.PLEDGE.value, slug="boycott", pledge_options=OPTIONS
        )
        for email, option in [
            ("a@example.org", OPTIONS[0]),
            ("b@example.org", OPTIONS[0]),
            ("c@example.org", OPTIONS[1]),
        ]:
            confirmed_signature(pledge, email, pledge_option=option)
        fold_counts()
        return campaign.id, pledge.id


def _counts(action_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(TallyPledge.option, TallyPledge.n).where(TallyPledge.action_id == action_id)
    )
    return {option: n for option, n in rows if n}


def test_the_fold_counts_each_option_and_follows_withdrawals(app: Flask) -> None:
    _, action_id = _pledge(app)
    with app.app_context():
        assert _counts(action_id) == {OPTIONS[0]: 2, OPTIONS[1]: 1}
        db.session.execute(
            update(Signature)
            .where(Signature.email_normalised == "b@example.org")
            .values(withdrawn_at=utcnow(), needs_count=True)
        )
        db.session.commit()
        fold_counts()
        assert _counts(action_id) == {OPTIONS[0]: 1, OPTIONS[1]: 1}
        rows = pledge_counts([_action(action_id)])
        assert [(r.option, r.n) for r in rows[action_id]] == [
            (OPTIONS[0], 1),
            (OPTIONS[1], 1),
            (OPTIONS[2], 0),
        ]
        assert [r.phrase for r in rows[action_id]][:2] == [
            "1 will boycott",
            "1 will attend the protest",
        ]
        assert rows[action_id][2].words == "chose “Share the word”"


def _action(action_id: int):
    from petitions.campaigns.models import Action

    return db.session.get(Action, action_id)


def test_reconcile_repairs_a_wrong_option_count(app: Flask) -> None:
    _, action_id = _pledge(app)
    with app.app_context():
        db.session.execute(
            update(TallyPledge)
            .where(TallyPledge.action_id == action_id, TallyPledge.option == OPTIONS[0])
            .values(n=99)
        )
        db.session.commit()
        repairs = reconcile_counts()
        assert [r.table for r in repairs] == ["tally_pledge"]
        assert _counts(action_id) == {OPTIONS[0]: 2, OPTIONS[1]: 1}


def test_dashboard_and_public_page_show_the_breakdown(app: Flask) -> None:
    campaign_id, action_id = _pledge(app)
    client = app.test_client()
    login(client, "ann@example.org")
    data = client.get(
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard.json"
    ).get_json()
    assert [(p["label"], p["n"]) for p in data["pledges"]] == [
        (OPTIONS[0], 2),
        (OPTIONS[1], 1),
        (OPTIONS[2], 0),
    ]
    page = client.get(f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard")
    html = page.get_data(as_text=True)
    assert 'id="chart-pledges"' in html and 'id="table-pledges"' in html
    # The dashboard links to the action's other pages.
    for link in ("/signatures", "/exports", "/invalidate"):
        assert link in html, link

    public = app.test_client().get("/c/fair/boycott").get_data(as_text=True)
    assert "<strong>2</strong> will boycott" in public
    assert "<strong>1</strong> will attend the protest" in public
