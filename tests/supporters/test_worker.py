"""My actions end to end with the real worker and SMTP sink: the emailed link, a withdrawal
and an erasure, with the worker's folded counts equal to the confirmed rows throughout."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally
from tests.conftest import wait_for
from tests.support import factories
from tests.support.web import csrf_from
from tests.supporters.conftest import sign_confirmed

pytestmark = pytest.mark.integration


def _counts_match(app) -> bool:
    with app.app_context():
        rows = dict(
            db.session.execute(
                select(Signature.action_id, func.count())
                .where(
                    Signature.confirmed_at.is_not(None),
                    Signature.withdrawn_at.is_(None),
                    Signature.invalidated_at.is_(None),
                    Signature.suspect.is_(False),
                )
                .group_by(Signature.action_id)
            ).all()
        )
        tallies = {t.action_id: t.confirmed for t in db.session.scalars(select(ActionTally))}
        flagged = db.session.scalar(select(func.count()).where(Signature.needs_count.is_(True)))
        db.session.remove()
    keys = set(rows) | set(tallies)
    return not flagged and all(rows.get(k, 0) == tallies.get(k, 0) for k in keys)


def test_my_actions_withdraw_and_erase_with_the_worker(live_app, smtp_sink):
    app = live_app
    with app.app_context():
        campaign = factories.make_campaign()
        first = factories.make_action(campaign, title="Stop the bypass")
        second = factories.make_action(campaign, title="Pledge to cycle", kind="pledge")
        mine = sign_confirmed(first, "ann@example.org")
        sign_confirmed(second, "ann@example.org")
        sign_confirmed(first, "bob@example.org")
        first_id, second_id = first.id, second.id
        db.session.remove()
    wait_for(lambda: _counts_match(app))

    client = app.test_client()
    page = client.get("/my")
    client.post(
        "/my/signin",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": "ann@example.org"},
    )
    [mail] = [m for m in smtp_sink.wait_for(1) if "My actions" in m.subject]
    link = re.search(r"http://localhost(/my/signin/[A-Za-z0-9_-]+)", mail.text()).group(1)
    landing = client.get(link)
    client.post(link, data={"csrf_token": csrf_from(landing.get_data(as_text=True))})
    home = client.get("/my").get_data(as_text=True)
    assert "Stop the bypass" in home and "Pledge to cycle" in home

    token = csrf_from(home)
    assert (
        client.post(f"/my/signatures/{mine}/withdraw", data={"csrf_token": token}).status_code
        == 303
    )
    wait_for(lambda: _counts_match(app))
    with app.app_context():
        assert db.session.get(ActionTally, first_id).confirmed == 1
        db.session.remove()

    erase = client.get("/my/erase")
    client.post(
        "/my/erase", data={"csrf_token": csrf_from(erase.get_data(as_text=True)), "confirm": "y"}
    )
    wait_for(lambda: _counts_match(app))
    with app.app_context():
        assert not db.session.scalar(
            select(func.count()).where(Signature.email_normalised == "ann@example.org")
        )
        assert db.session.get(ActionTally, second_id).confirmed == 1, "kept, anonymously"
        db.session.remove()
