"""Many people confirm at once for the last place: exactly one gets it, the rest wait in order.

Real PostgreSQL, one thread (and connection) per confirmation, all released together.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from petitions.core.tokens import issue_token
from petitions.core.unit_of_work import commit
from petitions.extensions import db
from petitions.gatherings import services as gatherings
from petitions.gatherings.models import Rsvp
from petitions.signing import services as signing
from tests.gatherings.conftest import make_event
from tests.support.factories import make_signature

RACERS = 8


def test_concurrent_confirmations_never_exceed_capacity(app):
    with app.app_context():
        action = make_event(capacity=2)
        first = make_signature(action, "first@example.org")
        gatherings.record_rsvp(action, first, {}, {})
        gatherings.place_confirmed(first)  # one place left
        tokens = []
        for n in range(RACERS):
            signature_id = make_signature(action, f"racer{n}@example.org")
            gatherings.record_rsvp(action, signature_id, {}, {})
            tokens.append(issue_token(signing.CONFIRM_PURPOSE, signature_id, timedelta(days=1)))
        db.session.commit()
        action_id = action.id
        db.session.remove()

    barrier = threading.Barrier(RACERS)
    errors: list[BaseException] = []

    def race(token: str) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                signing.confirm(token)
                commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    with app.app_context():
        rows = list(
            db.session.execute(
                select(Rsvp.status, Rsvp.placed_at)
                .where(Rsvp.action_id == action_id)
                .order_by(Rsvp.placed_at, Rsvp.id)
            )
        )
        statuses = [status for status, _ in rows]
        assert statuses.count("going") == 2
        assert statuses.count("waitlisted") == RACERS - 1
        # First come, first served: nobody placed later holds a place ahead of someone waiting.
        assert statuses[:2] == ["going", "going"]
        db.session.remove()
