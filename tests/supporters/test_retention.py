"""Retention on time-shifted data: closed actions are anonymised, stale unconfirmed purged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from petitions.campaigns.models import Action
from petitions.core.models import Token
from petitions.core.time import utcnow
from petitions.core.tokens import issue_token
from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.supporters.models import ERASED_PREFIX
from tests.supporters.conftest import assert_counts_match_rows, sign_confirmed
from workers.tasks.supporters import apply_retention


def _shift(signature_id: int, days: int) -> None:
    db.session.execute(
        update(Signature)
        .where(Signature.id == signature_id)
        .values(created_at=utcnow() - timedelta(days=days))
    )


def test_closed_actions_are_anonymised_after_the_period(app, factories):
    app.config["RETENTION_DAYS_AFTER_CLOSE"] = 30
    try:
        old = factories.make_action()
        recent = factories.make_action()
        by_deadline = factories.make_action()
        a = sign_confirmed(old, "ann@example.org")
        b = sign_confirmed(recent, "bob@example.org")
        c = sign_confirmed(by_deadline, "cat@example.org")
        assert_counts_match_rows()
        db.session.execute(
            update(Action)
            .where(Action.id == old.id)
            .values(closed_at=utcnow() - timedelta(days=31))
        )
        db.session.execute(
            update(Action)
            .where(Action.id == recent.id)
            .values(closed_at=utcnow() - timedelta(days=29))
        )
        db.session.execute(
            update(Action)
            .where(Action.id == by_deadline.id)
            .values(deadline=(utcnow() - timedelta(days=40)).date())
        )
        db.session.commit()

        totals = apply_retention()
        assert totals["anonymised"] == 2
        db.session.expire_all()
        assert db.session.get(Signature, a).email_normalised.startswith(ERASED_PREFIX)
        assert db.session.get(Signature, c).name == ""
        assert db.session.get(Signature, b).email_normalised == "bob@example.org"
        assert apply_retention()["anonymised"] == 0, "idempotent"
        assert_counts_match_rows()
    finally:
        app.config["RETENTION_DAYS_AFTER_CLOSE"] = 180


def test_unconfirmed_are_purged_after_their_link_expires(app, factories):
    action = factories.make_action()
    stale = factories.make_signature(action, "old@example.org")
    resent = factories.make_signature(action, "resent@example.org")
    fresh = factories.make_signature(action, "new@example.org")
    kept = sign_confirmed(action, "kept@example.org")
    issue_token("confirm_signature", stale, timedelta(days=7))
    issue_token("confirm_signature", resent, timedelta(days=7))
    db.session.execute(update(Token).values(expires_at=utcnow() - timedelta(days=1)))
    issue_token("confirm_signature", resent, timedelta(days=7))  # a later re-send, still valid
    for signature_id in (stale, resent, kept):
        _shift(signature_id, 10)
    db.session.commit()
    fold_counts()
    assert_counts_match_rows()

    first = apply_retention()
    assert first["unconfirmed_anonymised"] == 1
    db.session.expire_all()
    assert db.session.get(Signature, stale).invalidated_at is not None
    fold_counts()  # the fold takes it out of the pending count ...
    second = apply_retention()  # ... and then it can go
    assert second["unconfirmed_deleted"] == 1
    db.session.expire_all()
    assert db.session.get(Signature, stale) is None
    assert db.session.get(Signature, resent) is not None
    assert db.session.get(Signature, fresh) is not None
    assert db.session.get(Signature, kept).confirmed_at is not None
    assert db.session.scalar(select(func.count()).where(Token.subject_id == stale)) == 0
    assert_counts_match_rows()
    from petitions.tallies.models import ActionTally

    tally = db.session.get(ActionTally, action.id)
    assert (tally.pending, tally.confirmed) == (2, 1)
