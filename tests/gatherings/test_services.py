"""Event rules without a request: validation, time zones across DST, places and the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.models import EventDetails, Rsvp, RsvpStatus
from tests.gatherings.conftest import event_input, make_event
from tests.support.factories import make_campaign, make_signature


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"ends_local": datetime(2030, 1, 1, 9), "starts_local": datetime(2030, 1, 1, 10)},
            "end after",
        ),
        (
            {"starts_local": datetime(2020, 1, 1, 10), "ends_local": datetime(2020, 1, 1, 11)},
            "future",
        ),
        ({"capacity": 0}, "Capacity"),
        ({"capacity": -5}, "Capacity"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"timezone": ""}, "Unknown time zone"),
        ({"title": "Two\r\nlines"}, "one line"),
        ({"venue": "Hall\nX-Injected: yes"}, "one line"),
        ({"online_url": "javascript:alert(1)"}, "http"),
        ({"online_url": "ftp://example.org/x"}, "http"),
        ({"venue": "", "online_url": ""}, "place"),
        # 01:30 on the last Sunday of March 2030 does not exist in London.
        (
            {"starts_local": datetime(2030, 3, 31, 1, 30), "ends_local": datetime(2030, 3, 31, 3)},
            "does not exist",
        ),
    ],
)
def test_bad_event_input_is_refused_with_a_message(factories, values, message):
    campaign = make_campaign()
    with pytest.raises(services.EventError, match=message):
        services.create_event(campaign, event_input(**values))


def test_times_are_stored_in_utc_from_the_events_own_zone_across_dst(factories):
    campaign = make_campaign()
    # The day before and the day after the clocks go back in London (27 October 2030).
    summer = services.create_event(
        campaign,
        event_input(starts_local=datetime(2030, 10, 26, 10), ends_local=datetime(2030, 10, 26, 11)),
    )
    winter = services.create_event(
        campaign,
        event_input(
            title="Later",
            starts_local=datetime(2030, 10, 28, 10),
            ends_local=datetime(2030, 10, 28, 11),
        ),
    )
    summer_details = db.session.get(EventDetails, summer.id)
    winter_details = db.session.get(EventDetails, winter.id)
    assert summer_details.starts_utc == datetime(2030, 10, 26, 9, tzinfo=UTC)  # BST
    assert winter_details.starts_utc == datetime(2030, 10, 28, 10, tzinfo=UTC)  # GMT
    assert summer_details.local_start.tzname() == "BST"
    assert winter_details.local_start.tzname() == "GMT"
    ny = services.create_event(
        campaign,
        event_input(
            title="NY",
            timezone="America/New_York",
            starts_local=datetime(2030, 10, 28, 10),
            ends_local=datetime(2030, 10, 28, 11),
        ),
    )
    # New York is still on daylight time then (its clocks go back a week later).
    assert db.session.get(EventDetails, ny.id).starts_utc == datetime(2030, 10, 28, 14, tzinfo=UTC)


def _confirmed_rsvp(action, address: str) -> Rsvp:
    signature_id = make_signature(action, address)
    services.record_rsvp(action, signature_id, {}, {})
    rsvp = services.place_confirmed(signature_id)
    db.session.commit()
    return rsvp


def test_places_then_waitlist_first_come_first_served_and_promotion(factories):
    action = make_event(capacity=2)
    a, b, c, d = (_confirmed_rsvp(action, f"{n}@example.org") for n in "abcd")
    assert [a.status, b.status] == ["going", "going"]
    assert [c.status, d.status] == ["waitlisted", "waitlisted"]
    promoted = services.cancel_rsvp(a)
    db.session.commit()
    assert promoted == [c.id]
    db.session.refresh(c)
    db.session.refresh(d)
    assert c.status == "going" and d.status == "waitlisted"
    assert services.places_taken(action.id) == 2
    # The cancelled RSVP's signature is withdrawn, so it leaves the counts.
    db.session.refresh(a)
    assert a.signature.withdrawn_at is not None
    # Cancelling twice changes nothing.
    assert services.cancel_rsvp(a) == []


def test_placing_is_idempotent(factories):
    action = make_event(capacity=1)
    rsvp = _confirmed_rsvp(action, "a@example.org")
    again = services.place_confirmed(rsvp.signature_id)
    assert again.status == RsvpStatus.GOING.value
    assert services.places_taken(action.id) == 1


def test_no_waitlist_means_full(factories):
    action = make_event(capacity=1, waitlist=False)
    _confirmed_rsvp(action, "a@example.org")
    assert _confirmed_rsvp(action, "b@example.org").status == "full"


def test_raising_capacity_promotes_the_waitlist(factories):
    action = make_event(capacity=1)
    _confirmed_rsvp(action, "a@example.org")
    waiting = _confirmed_rsvp(action, "b@example.org")
    assert waiting.status == "waitlisted"
    outcome = services.update_event(action, event_input(capacity=2))
    db.session.commit()
    db.session.refresh(waiting)
    assert waiting.status == "going"
    assert outcome.changed == []


def test_sensitive_answers_are_kept_apart_and_erased(factories):
    from petitions.supporters.services import erase

    questions = services.parse_questions("Bringing a guest?\n!Access needs")
    assert [q.sensitive for q in questions] == [False, True]
    action = make_event(questions=questions)
    answers, sensitive = services.clean_answers(
        db.session.get(EventDetails, action.id).questions,
        {"bringing_a_guest": "Yes", "access_needs": "Step-free route", "other": "dropped"},
    )
    assert answers == {"bringing_a_guest": "Yes"}
    assert sensitive == {"access_needs": "Step-free route"}
    signature_id = make_signature(action, "ann@example.org")
    rsvp = services.record_rsvp(action, signature_id, answers, sensitive)
    db.session.commit()
    erase("ann@example.org")
    db.session.commit()
    db.session.refresh(rsvp)
    assert rsvp.sensitive_answers == {} and rsvp.answers == {}
