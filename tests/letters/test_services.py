"""Letters' rules without a browser: bad input is a clear 4xx with nothing stored or sent; a
letter is delivered at most once per target, also after a worker dies mid-send; the
per-target rate holds; withdrawn letters stop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.letters import jobs, services
from petitions.letters.models import DeliveryStatus, Letter, LetterDelivery
from petitions.signing.models import Signature
from tests.letters.conftest import COMPANY_URL, MP_URL, write


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"message": "x" * 5001}, b"up to 5,000 characters"),
        ({"message": "Hello <b>there</b>"}, b"HTML tags"),
        ({"message": "Hello\x07there"}, b"control or invisible"),
        ({"message": "Hello\x00there"}, b""),  # NUL: refused before any view runs
        ({"name": "Ann\r\nBcc: x@example.org"}, b"no line breaks"),
        ({"email": "ann@example.org\nBcc: x@example.org"}, b"no line breaks"),
        ({"postcode": "GU11\n1AA"}, b"no line breaks"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(app, client, demo, fields, expected):
    response = write(client, COMPANY_URL, "ann@example.org", **fields)
    assert response.status_code == 400
    assert expected in response.data
    with app.app_context():
        assert db.session.scalar(select(Letter.id)) is None
        assert db.session.scalar(select(Signature.id)) is None


def test_unknown_and_partial_postcodes_are_a_clear_400(client, demo):
    unknown = client.get(MP_URL + "?postcode=ZZ9 9ZZ")
    assert unknown.status_code == 400 and b"find that postcode" in unknown.data
    assert b"choose your constituency by name" in unknown.data and b"Aldershot" in unknown.data
    partial = client.get(MP_URL + "?postcode=GU11")
    assert partial.status_code == 400 and b"part of a postcode" in partial.data
    split = client.get(MP_URL + "?postcode=WA15 0ZZ")
    assert split.status_code == 200 and b"split between" in split.data
    by_name = client.get(MP_URL + "?constituency=E14001065")
    assert by_name.status_code == 200 and b"Sam Okafor MP" in by_name.data
    bogus = client.post(MP_URL, data={"constituency": "E99999999"})
    assert bogus.status_code == 400


def test_a_target_needs_a_valid_email(app_ctx, demo):
    from petitions.campaigns.models import Action

    action = db.session.get(Action, demo["company"])
    with pytest.raises(services.LetterError, match="Target email"):
        services.add_target(action, services.TargetInput(name="X", email="not an email"))
    with pytest.raises(services.LetterError, match="one line"):
        services.add_target(action, services.TargetInput(name="X\r\n", email="x@example.org"))


def _confirmed_letter(app, client, address="ann@example.org"):  # type: ignore[no-untyped-def]
    assert write(client, COMPANY_URL, address).status_code == 303
    with app.app_context():
        signature = db.session.scalar(select(Signature).where(Signature.email == address))
        signature.confirmed_at = utcnow()
        count = services.plan_deliveries(signature.id)
        assert services.plan_deliveries(signature.id) == 0  # UNIQUE: planning twice adds none
        db.session.commit()
        return count


def test_delivered_at_most_once_even_after_a_crash_mid_send(app, client, smtp_sink, demo):
    assert _confirmed_letter(app, client) == 2
    with app.app_context():
        first = db.session.scalar(select(LetterDelivery).order_by(LetterDelivery.id))
        # A worker handed this one to SMTP and died before recording the outcome.
        first.status = DeliveryStatus.SENDING.value
        first.handed_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        report = jobs.run()
        assert report.sent == 1 and report.unknown == 1
        assert jobs.run().sent == 0
        statuses = sorted(db.session.scalars(select(LetterDelivery.status)))
        assert statuses == ["sent", "unknown"]
        db.session.remove()
    # Only the letter that was not in flight went out (no worker drains confirmations here).
    assert [m.envelope_to for m in smtp_sink.messages] == [
        ["sustainability@threadline.example.org"]
    ]


def test_per_target_rate_holds_rows_for_the_next_minute(app, client, smtp_sink, demo):
    for n in range(3):
        _confirmed_letter(app, client, f"s{n}@example.org")
    with app.app_context():
        from petitions.letters.models import LetterDetails

        db.session.get(LetterDetails, demo["company"]).rate_per_minute = 2
        db.session.commit()
        now = utcnow()
        report = jobs.send_pending(now=now)
        assert report.sent == 4 and report.waiting == 2  # 2 a minute for each of 2 targets
        assert jobs.send_pending(now=now).sent == 0
        later = jobs.send_pending(now=now + timedelta(minutes=1, seconds=1))
        assert later.sent == 2
        db.session.remove()


def test_withdrawn_before_sending_never_goes(app, client, smtp_sink, demo):
    _confirmed_letter(app, client)
    with app.app_context():
        ids = list(db.session.scalars(select(Signature.id)))
        assert services.stop_undelivered(ids) == 2
        db.session.commit()
        assert jobs.run().sent == 0
        db.session.remove()
