"""The outbox checks a whole batch's suppressed addresses in one query (a bench-driven change):
suppressed recipients are still skipped, everyone else in the batch still gets their email."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from petitions.extensions import db
from petitions.mailer import services as mailer
from petitions.mailer.models import OutboxMessage
from tests.support.smtp import SmtpSink


def test_suppressed_addresses_in_a_batch_are_skipped(factories: Any, smtp_sink: SmtpSink) -> None:
    action = factories.make_action()
    for n in range(5):
        factories.make_signature(action, f"batch{n}@example.org")
    mailer.suppress("batch1@example.org", "smtp 550")
    mailer.suppress("batch3@example.org", "smtp 550")
    db.session.commit()

    report = mailer.drain()

    assert (report.sent, report.skipped) == (3, 2)
    delivered = sorted(m.envelope_to[0] for m in smtp_sink.messages)
    assert delivered == ["batch0@example.org", "batch2@example.org", "batch4@example.org"]
    errors = db.session.scalars(
        select(OutboxMessage.last_error).where(OutboxMessage.failed_at.is_not(None))
    ).all()
    assert errors == ["address suppressed", "address suppressed"]
    assert mailer.suppressed_among(set()) == set()
