"""An RSVP in "My actions": its place and link to the RSVP page; withdrawing it there cancels
the RSVP and promotes the first person waiting."""

from __future__ import annotations

import time

from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.models import Rsvp
from petitions.supporters.services import supporter_for
from tests.gatherings.conftest import make_event
from tests.support.factories import make_signature
from tests.support.web import csrf_from


def _going(action, address: str) -> Rsvp:  # type: ignore[no-untyped-def]
    signature_id = make_signature(action, address)
    services.record_rsvp(action, signature_id, {}, {})
    rsvp = services.place_confirmed(signature_id)
    db.session.commit()
    return rsvp


def test_withdrawing_in_my_actions_cancels_and_promotes(client, factories):
    action = make_event(capacity=1)
    ann = _going(action, "ann@example.org")
    bob = _going(action, "bob@example.org")
    assert (ann.status, bob.status) == ("going", "waitlisted")
    supporter = supporter_for("ann@example.org")
    db.session.commit()
    with client.session_transaction() as sess:
        sess["supporter_id"] = supporter.id
        sess["supporter_until"] = int(time.time()) + 600
        sess["supporter_version"] = 1
    page = client.get("/my").get_data(as_text=True)
    assert "RSVP: going" in page and "online link" in page
    response = client.post(
        f"/my/signatures/{ann.signature_id}/withdraw", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Rsvp, ann.id).status == "cancelled"
    assert db.session.get(Rsvp, bob.id).status == "going"
