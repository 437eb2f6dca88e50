"""Issue 11, finding 1 and 12: one message never stalls the others, and attempts end.

Drained in-process against the real SMTP sink and PostgreSQL. The poison rows are written
straight through the signing service (as rows accepted before intake refused such addresses).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer import jobs as mailer
from petitions.mailer.models import OutboxMessage
from petitions.mailer.registry import BUILDERS
from petitions.mailer.services import enqueue
from tests.conftest import free_port
from tests.support.factories import make_legacy_signature
from tests.support.smtp import SmtpSink

GOOD = [f"good{n}@example.org" for n in range(5)]
POISON = ["zoë@example.org", "josé@example.org", "straße@example.org", "ｊｏｈｎ@example.org"]


def _rows() -> dict[int, OutboxMessage]:
    db.session.expire_all()
    return {row.ref_id: row for row in db.session.scalars(select(OutboxMessage))}


def test_poison_addresses_among_good_ones_fail_alone_in_one_drain(
    factories: Any, smtp_sink: SmtpSink
) -> None:
    action = factories.make_action()
    ids: dict[str, int] = {}
    for good, poison in zip(GOOD, POISON + [None], strict=True):
        ids[good] = make_legacy_signature(action, good)
        if poison:
            ids[poison] = make_legacy_signature(action, poison)

    report = mailer.drain()

    delivered = sorted(m.envelope_to[0] for m in smtp_sink.messages)
    assert delivered == sorted(GOOD)
    assert (report.sent, report.failed) == (5, 4)
    rows = _rows()
    for poison in POISON:
        row = rows[ids[poison]]
        assert row.failed_at is not None and row.sent_at is None
        assert row.last_error.startswith("address cannot be sent")
        assert "@" not in row.last_error  # the reason never repeats the address
    # Nothing comes back: the next drain has nothing to claim.
    assert mailer.claim_batch() == []


def test_unicode_domains_go_out_idna_encoded(factories: Any, smtp_sink: SmtpSink) -> None:
    action = factories.make_action()
    factories.make_signature(action, "ann@bücher.example")
    factories.make_signature(action, "bo@ＥＸＡＭＰＬＥ.org")  # fullwidth: folded by IDNA

    assert mailer.drain().sent == 2

    envelopes = sorted(m.envelope_to[0] for m in smtp_sink.messages)
    assert envelopes == ["ann@xn--bcher-kva.example", "bo@example.org"]


def test_a_builder_that_raises_is_retried_alone_then_given_up(
    factories: Any, smtp_sink: SmtpSink, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ref_id: int) -> Any:
        raise RuntimeError("a bug in one builder")

    monkeypatch.setitem(BUILDERS, "test_broken", broken)
    action = factories.make_action()
    factories.make_signature(action, "before@example.org")
    broken_id = enqueue("test_broken", 1)
    factories.make_signature(action, "after@example.org")
    db.session.commit()

    mailer.drain()

    assert sorted(m.envelope_to[0] for m in smtp_sink.messages) == [
        "after@example.org",
        "before@example.org",
    ]
    row = db.session.get(OutboxMessage, broken_id)
    assert row.failed_at is None and row.last_error == "build: RuntimeError"
    # Every claim counts; at the cap it fails for good with its reason.
    for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == broken_id).values(available_at=utcnow())
        )
        db.session.commit()
        mailer.drain()
    db.session.expire_all()
    row = db.session.get(OutboxMessage, broken_id)
    assert row.failed_at is not None
    assert row.last_error == "gave up: build: RuntimeError"


def test_rows_stuck_by_earlier_versions_fail_at_the_next_claim(
    factories: Any, smtp_sink: SmtpSink, app: Flask
) -> None:
    """A row retried forever before this fix (attempts past the cap, lease long expired)."""
    action = factories.make_action()
    stuck = make_legacy_signature(action, "zoë@example.org")
    factories.make_signature(action, "next@example.org")
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.ref_id == stuck)
        .values(attempts=57, claimed_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()

    mailer.drain()

    assert [m.envelope_to[0] for m in smtp_sink.messages] == ["next@example.org"]
    row = _rows()[stuck]
    assert row.failed_at is not None
    assert row.last_error.startswith("gave up")


def test_a_row_whose_worker_died_each_time_stops_at_the_cap(factories: Any, app: Flask) -> None:
    action = factories.make_action()
    sid = factories.make_signature(action, "crash@example.org")
    cap = app.config["OUTBOX_MAX_ATTEMPTS"]
    for _ in range(cap):
        assert mailer.claim_batch()  # claimed, then the worker "dies": nothing recorded
        db.session.execute(
            update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert mailer.claim_batch() == []
    row = _rows()[sid]
    assert row.attempts == cap and row.failed_at is not None
    assert row.last_error == "gave up: the worker never finished sending it"


def test_a_long_smtp_outage_never_uses_up_attempts(factories: Any, app: Flask) -> None:
    """Finding 12: the server away is nobody's fault; rows come back within the bound."""
    action = factories.make_action()
    sid = factories.make_signature(action, "patient@example.org")
    bound = app.config["OUTBOX_OUTAGE_RETRY_SECONDS"]
    port, app.config["MAIL_PORT"] = app.config["MAIL_PORT"], free_port()  # nothing listens
    app.extensions["mail"].port = app.config["MAIL_PORT"]
    try:
        for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"] * 3):
            db.session.execute(update(OutboxMessage).values(available_at=utcnow()))
            db.session.commit()
            started = utcnow()
            report = mailer.drain()
            assert report.retried == 1 and report.failed == 0
            row = _rows()[sid]
            assert row.failed_at is None and row.attempts == 0
            assert row.last_error.startswith("connect")
            assert row.available_at <= started + timedelta(seconds=bound + 1)
    finally:
        app.config["MAIL_PORT"] = port
        app.extensions["mail"].port = port


def test_per_message_backoff_is_capped(factories: Any, app: Flask) -> None:
    action = factories.make_action()
    sid = factories.make_signature(action, "slow@example.org")
    db.session.execute(update(OutboxMessage).values(attempts=7))
    db.session.commit()
    row = _rows()[sid]
    before = utcnow()
    assert mailer._retry_later(mailer._Claimed(row.id, 7), "smtp 451")  # noqa: SLF001
    db.session.commit()
    row = _rows()[sid]
    cap = app.config["OUTBOX_RETRY_MAX_SECONDS"]
    assert row.available_at <= before + timedelta(seconds=cap * 1.5 + 1)


def test_outbox_bounds_in_production_defaults() -> None:
    """The figures docs/operations.md states: mail resumes within 30 s of SMTP returning."""
    from petitions import create_app

    config = create_app("test").config
    assert config["OUTBOX_OUTAGE_RETRY_SECONDS"] + config["OUTBOX_SWEEP_SECONDS"] <= 30


def test_smtputf8_sends_unicode_local_parts_when_configured(factories: Any, app: Flask) -> None:
    """``MAIL_SMTPUTF8`` on and a server that advertises it: ``zoë@`` gets her email."""
    sink = SmtpSink(free_port(), smtputf8=True)
    sink.start()
    saved = app.config["MAIL_PORT"]
    app.config["MAIL_SMTPUTF8"] = True
    app.config["MAIL_PORT"] = app.extensions["mail"].port = sink.port
    try:
        action = factories.make_action()
        factories.make_signature(action, "zoë@example.org", name='Zoë "Z" Ünal')
        factories.make_signature(action, "plain@example.org")
        assert mailer.drain().sent == 2
        envelopes = sorted(m.envelope_to[0] for m in sink.messages)
        assert envelopes == ["plain@example.org", "zoë@example.org"]
        (zoe,) = sink.to("zoë@example.org")
        assert "zoë@example.org" in zoe.to and "Zoë" in zoe.to
        assert "/confirm/" in zoe.text()
    finally:
        app.config["MAIL_SMTPUTF8"] = False
        app.config["MAIL_PORT"] = app.extensions["mail"].port = saved
        sink.stop()


def test_smtputf8_against_a_server_without_it_fails_that_message_alone(
    factories: Any, app: Flask, smtp_sink: SmtpSink
) -> None:
    app.config["MAIL_SMTPUTF8"] = True
    try:
        action = factories.make_action()
        sid = factories.make_signature(action, "zoë@example.org")
        factories.make_signature(action, "plain@example.org")
        report = mailer.drain()
    finally:
        app.config["MAIL_SMTPUTF8"] = False
    assert (report.sent, report.failed) == (1, 1)
    assert [m.envelope_to[0] for m in smtp_sink.messages] == ["plain@example.org"]
    assert _rows()[sid].last_error == "address cannot be sent: SMTPNotSupportedError"
