import logging

from sqlalchemy import select, update

from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts, reconcile_counts
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally, TallyArea, TallyDaily, TallyHourly
from tests.support.factories import make_action, make_signature


def _confirm(sig_id: int) -> None:
    db.session.execute(
        update(Signature)
        .where(Signature.id == sig_id)
        .values(confirmed_at=utcnow(), needs_count=True)
    )
    db.session.commit()


def test_fold_counts_pending_then_confirmed_with_breakdowns(factories):
    action = make_action()
    a = make_signature(action, "a@example.org", source="email")
    make_signature(action, "b@example.org", country="FR", postcode="75001", postcode_area="")
    assert fold_counts() == 2
    tally = db.session.get(ActionTally, action.id)
    assert (tally.pending, tally.confirmed) == (2, 0)

    _confirm(a)
    assert fold_counts() == 1
    db.session.refresh(tally)
    assert (tally.pending, tally.confirmed) == (1, 1)
    daily = db.session.scalars(select(TallyDaily)).all()
    assert [(d.country, d.source, d.n) for d in daily] == [("GB", "email", 1)]
    area = db.session.scalars(select(TallyArea)).all()
    assert [(r.country, r.postcode_area, r.n) for r in area] == [("GB", "SW", 1)]
    assert sum(h.n for h in db.session.scalars(select(TallyHourly))) == 1
    assert fold_counts() == 0, "nothing left to fold"


def test_invalidation_takes_a_confirmed_signature_out(factories):
    action = make_action()
    a = make_signature(action, "a@example.org")
    _confirm(a)
    fold_counts()
    db.session.execute(
        update(Signature).where(Signature.id == a).values(invalidated_at=utcnow(), needs_count=True)
    )
    db.session.commit()
    fold_counts()
    tally = db.session.get(ActionTally, action.id)
    assert (tally.pending, tally.confirmed) == (0, 0)
    assert all(d.n == 0 for d in db.session.scalars(select(TallyDaily)))


def test_reconcile_repairs_a_corrupted_count_and_logs_it(factories, caplog):
    action = make_action()
    for i in range(3):
        _confirm(make_signature(action, f"p{i}@example.org"))
    fold_counts()
    assert reconcile_counts() == []

    db.session.execute(update(ActionTally).values(confirmed=999))
    db.session.execute(update(TallyDaily).values(n=5))
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="petitions.counting.jobs"):
        repairs = reconcile_counts()
    assert {r.table for r in repairs} == {"action_tallies", "tally_daily"}
    assert "repaired action_tallies" in caplog.text
    assert db.session.get(ActionTally, action.id).confirmed == 3
    assert sum(d.n for d in db.session.scalars(select(TallyDaily))) == 3


def test_reconcile_requeues_signatures_that_lost_their_flag(factories):
    action = make_action()
    a = make_signature(action, "a@example.org")
    fold_counts()
    # Confirmed, but the flag that queues it for counting was lost.
    db.session.execute(update(Signature).where(Signature.id == a).values(confirmed_at=utcnow()))
    db.session.commit()
    fold_counts()
    assert db.session.get(ActionTally, action.id).confirmed == 0
    reconcile_counts()
    fold_counts()
    assert db.session.get(ActionTally, action.id).confirmed == 1
