"""Bulk invalidation: preview count, run in batches, undo; counts follow through the fold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from petitions.abuse import jobs
from petitions.abuse import services as invalidation
from petitions.abuse.models import InvalidatedSignature, JobStatus
from petitions.abuse.services import Criteria, CriteriaError
from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts, reconcile_counts
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally
from tests.support.factories import make_action, make_signature


@pytest.fixture
def action(factories):
    return make_action()


def _sign(action, email, **values):
    sid = make_signature(action, email, **values)
    db.session.execute(
        update(Signature).where(Signature.id == sid).values(confirmed_at=utcnow(), needs_count=True)
    )
    db.session.commit()
    return sid


def _confirmed(action_id):
    fold_counts()
    db.session.expire_all()
    tally = db.session.get(ActionTally, action_id)
    return tally.confirmed if tally else 0


def _run(action, criteria, **kw):
    job = invalidation.create_job(action.id, criteria, None, **kw)
    db.session.commit()
    return jobs.run_job(job.id)


def test_criteria_must_say_something(action):
    with pytest.raises(CriteriaError):
        invalidation.count_matching(action.id, Criteria())
    with pytest.raises(CriteriaError):
        invalidation.count_matching(action.id, Criteria(ip="not-an-ip"))


def test_each_criterion_matches_what_it_says(action):
    _sign(action, "a@bots.example", ip_address="203.0.113.5", name="Test Bot 1")
    _sign(action, "b@bots.example", ip_address="203.0.113.77", name="Real Person")
    _sign(action, "c@good.example", ip_address="198.51.100.1", name="test bot 2", source="fb")
    _sign(action, "d@good.example", ip_address="2001:db8::5", name="Dee 100%_")
    count = lambda **kw: invalidation.count_matching(action.id, Criteria(**kw))  # noqa: E731
    assert count(ip="203.0.113.5") == 1
    assert count(ip="203.0.113.0/24") == 2
    assert count(ip="2001:db8::/32") == 1
    assert count(email_domain="bots.example") == 2
    assert count(email_domain="@BOTS.example") == 2
    assert count(email_domain="ots.example") == 0
    assert count(name_pattern="test bot*") == 2
    assert count(name_pattern="*100%_") == 1
    assert count(name_pattern="*%*") == 1  # % is literal, not a wildcard
    assert count(source="fb") == 1
    assert count(email_domain="bots.example", name_pattern="real*") == 1
    now = utcnow()
    assert count(since=now - timedelta(minutes=5), until=now + timedelta(minutes=5)) == 4
    assert count(since=now + timedelta(minutes=5)) == 0


def test_run_then_undo_counts_follow_exactly(action, app, config):
    config(INVALIDATION_BATCH_SIZE=3)  # several batches
    for i in range(7):
        _sign(action, f"bot{i}@bots.example")
    for i in range(3):
        _sign(action, f"person{i}@good.example")
    assert _confirmed(action.id) == 10

    job = _run(action, Criteria(email_domain="bots.example"), reason="flood")
    assert (job.status, job.matched, job.changed, job.processed) == ("done", 7, 7, 7)
    assert job.progress == 100
    assert _confirmed(action.id) == 3
    assert reconcile_counts() == []  # the fold path kept everything exact

    assert invalidation.request_undo(job)
    db.session.commit()
    job = jobs.undo_job(job.id)
    assert (job.status, job.restored) == (JobStatus.UNDONE, 7)
    assert _confirmed(action.id) == 10
    assert reconcile_counts() == []


def test_undo_leaves_other_invalidations_alone(action):
    a = _sign(action, "a@bots.example")
    b = _sign(action, "b@bots.example")
    first = _run(action, Criteria(email_domain="bots.example"))
    # b is restored by hand, then invalidated again by a second job.
    db.session.execute(
        update(Signature).where(Signature.id == b).values(invalidated_at=None, needs_count=True)
    )
    db.session.commit()
    second = _run(action, Criteria(email_domain="bots.example"))
    assert second.changed == 1
    invalidation.request_undo(first)
    db.session.commit()
    jobs.undo_job(first.id)
    db.session.expire_all()
    assert db.session.get(Signature, a).invalidated_at is None
    assert db.session.get(Signature, b).invalidated_at is not None  # the second job's
    assert _confirmed(action.id) == 1


def test_job_ignores_signatures_made_after_it_was_created(action):
    _sign(action, "a@bots.example")
    job = invalidation.create_job(action.id, Criteria(email_domain="bots.example"), None)
    db.session.commit()
    later = _sign(action, "b@bots.example")
    db.session.execute(
        update(Signature)
        .where(Signature.id == later)
        .values(created_at=utcnow() + timedelta(seconds=5))
    )
    db.session.commit()
    job = jobs.run_job(job.id)
    assert job.changed == 1
    assert db.session.get(Signature, later).invalidated_at is None


def test_rerunning_a_job_is_harmless(action):
    for i in range(3):
        _sign(action, f"x{i}@bots.example")
    job = _run(action, Criteria(email_domain="bots.example"))
    job.status = JobStatus.RUNNING.value  # as if the worker died before marking it done
    db.session.commit()
    job = jobs.run_job(job.id)
    assert job.changed == 3
    items = db.session.scalars(select(InvalidatedSignature.signature_id)).all()
    assert len(items) == 3
    assert _confirmed(action.id) == 0


def test_only_a_finished_job_can_be_undone(action):
    _sign(action, "a@bots.example")
    job = invalidation.create_job(action.id, Criteria(email_domain="bots.example"), None)
    db.session.commit()
    assert not invalidation.request_undo(job)


def test_other_actions_are_untouched(action):
    other = make_action(action.campaign)
    _sign(action, "a@bots.example")
    _sign(other, "a@bots.example")
    _run(action, Criteria(email_domain="bots.example"))
    assert _confirmed(other.id) == 1
    assert _confirmed(action.id) == 0


def test_lost_jobs_are_found_again(action):
    _sign(action, "a@bots.example")
    job = invalidation.create_job(action.id, Criteria(email_domain="bots.example"), None)
    job.created_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert invalidation.pending_jobs() == [(job.id, invalidation.RUN_TASK)]
