"""Sending a mailing exactly once per recipient, in throttled batches, pausable and resumable.

This module owns its transactions (it calls ``unit_of_work.commit()`` per batch and per
message).

Every recipient gets a ``MailingDelivery`` row (UNIQUE per mailing and address) when the
mailing starts (``recipients.prepare``). Workers lease batches of pending rows (``FOR UPDATE
SKIP LOCKED``), open one SMTP connection per batch, and move each row through ``claimed ->
sending -> sent``. The move of one row to ``sending`` is committed *before* it goes to SMTP, in
the same commit as the previous row's outcome, so after a crash at most one row per worker is
in doubt; that row is marked ``unknown`` and never retried. Leased rows that were never
started go back to ``pending`` when their lease lapses, and the sweeper re-queues the mailing.
A redelivered task, a second worker or a second click on "send" therefore never mails anyone
twice.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update

from petitions.core import unit_of_work
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.services import suppress
from petitions.mailer.smtp import open_connection, smtp_code
from petitions.mailings.models import (
    DeliveryStatus,
    Mailing,
    MailingDelivery,
    MailingStatus,
)
from petitions.mailings.notifications import content_for, mailing_message
from petitions.mailings.recipients import due, prepare
from petitions.mailings.throttle import Throttle
from petitions.signing.models import Signature
from petitions.supporters.consent import consenting
from petitions.supporters.models import ERASED_PREFIX

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # temporary (4xx) refusals before a delivery fails for good
STATUS_CHECK_SECONDS = 0.5  # how often a sending batch re-reads pause/cancel


def recover_expired(mailing_id: int | None = None) -> int:
    """Rows leased by a worker that died: unstarted ones go back to pending; the one that was
    being handed to SMTP is marked unknown and never sent again."""
    now = utcnow()
    scope = [MailingDelivery.claimed_until < now]
    if mailing_id is not None:
        scope.append(MailingDelivery.mailing_id == mailing_id)
    released = db.session.execute(
        update(MailingDelivery)
        .where(*scope, MailingDelivery.status == DeliveryStatus.CLAIMED.value)
        .values(status=DeliveryStatus.PENDING.value, claimed_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    doubtful = db.session.execute(
        update(MailingDelivery)
        .where(*scope, MailingDelivery.status == DeliveryStatus.SENDING.value)
        .values(
            status=DeliveryStatus.UNKNOWN.value,
            claimed_until=None,
            error="worker stopped while sending",
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if doubtful:
        log.warning("mailing: %d deliveries in doubt after a worker stopped; not resent", doubtful)
    return int(released) + int(doubtful)


def claim(mailing_id: int, limit: int) -> list[int]:
    """Lease up to ``limit`` pending rows of this mailing to this worker; commits."""
    now = utcnow()
    recover_expired(mailing_id)
    ids = list(
        db.session.scalars(
            select(MailingDelivery.id)
            .where(
                MailingDelivery.mailing_id == mailing_id,
                MailingDelivery.status == DeliveryStatus.PENDING.value,
            )
            .order_by(MailingDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        lease = now + timedelta(seconds=current_app.config["MAILING_LEASE_SECONDS"])
        db.session.execute(
            update(MailingDelivery)
            .where(MailingDelivery.id.in_(ids))
            .values(status=DeliveryStatus.CLAIMED.value, claimed_until=lease)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Mailing)
            .where(Mailing.id == mailing_id)
            .values(runner_until=lease)
            .execution_options(synchronize_session=False)
        )
    unit_of_work.commit()
    return ids


def _set(delivery_id: int, **values: Any) -> None:
    db.session.execute(
        update(MailingDelivery)
        .where(MailingDelivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _release(ids: list[int], status: str) -> None:
    """Give leased rows back: to pending (paused, SMTP trouble) or skipped (cancelled)."""
    if not ids:
        return
    values: dict[str, Any] = {"claimed_until": None}
    if status == MailingStatus.CANCELLED:
        values.update(status=DeliveryStatus.SKIPPED.value, error="cancelled")
    else:
        values.update(status=DeliveryStatus.PENDING.value)
    db.session.execute(
        update(MailingDelivery)
        .where(
            MailingDelivery.id.in_(ids),
            MailingDelivery.status == DeliveryStatus.CLAIMED.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _abandon(connection: Any) -> None:
    host = getattr(connection, "host", None)
    if host is not None:
        with contextlib.suppress(OSError):
            host.close()
    connection.host = None


@dataclass
class BatchReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retry: int = 0
    unknown: int = 0
    stopped: bool = False  # paused or cancelled mid-batch
    error: str | None = None  # SMTP trouble: stop for now, the sweeper comes back

    def add(self, other: BatchReport) -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.failed += other.failed
        self.retry += other.retry
        self.unknown += other.unknown
        self.stopped = self.stopped or other.stopped
        self.error = self.error or other.error


def send_batch(mailing_id: int, ids: list[int], throttle: Throttle) -> BatchReport:
    """Send the leased rows over one SMTP connection, one commit per message."""
    report = BatchReport()
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None:
        return report
    # Plain rows, not ORM objects: each per-message commit would otherwise expire them all.
    rows = db.session.execute(
        select(
            MailingDelivery.id,
            MailingDelivery.email_normalised,
            MailingDelivery.signature_id,
            MailingDelivery.attempts,
        )
        .where(
            MailingDelivery.id.in_(ids),
            MailingDelivery.status == DeliveryStatus.CLAIMED.value,
        )
        .order_by(MailingDelivery.id)
    ).all()
    # Unsubscribes, bounces and erasure take effect at once, even for a mailing under way.
    blocked = set(
        db.session.scalars(
            select(MailingDelivery.id).where(
                MailingDelivery.id.in_([r.id for r in rows]),
                ~consenting(mailing.campaign_id, MailingDelivery.email_normalised),
            )
        )
    )
    addresses = {
        row.id: (row.email, row.name)
        for row in db.session.execute(
            select(Signature.id, Signature.email, Signature.name).where(
                Signature.id.in_([r.signature_id for r in rows if r.signature_id]),
                Signature.email_normalised.not_like(ERASED_PREFIX + "%"),
            )
        )
    }
    work = []
    for row in rows:
        if row.id in blocked or row.signature_id not in addresses:
            _set(
                row.id,
                status=DeliveryStatus.SKIPPED.value,
                claimed_until=None,
                error="unsubscribed or suppressed" if row.id in blocked else "no address",
            )
            report.skipped += 1
        else:
            work.append((row.id, row.email_normalised, row.attempts, addresses[row.signature_id]))
    unit_of_work.commit()
    if not work:
        return report

    content = content_for(mailing)
    lease_seconds = current_app.config["MAILING_LEASE_SECONDS"]
    try:
        connection = open_connection()
        connection.__enter__()
    except OSError as exc:
        _release([w[0] for w in work], MailingStatus.SENDING.value)
        unit_of_work.commit()
        report.error = f"connect: {smtp_code(exc) or type(exc).__name__}"
        return report

    outcome: tuple[int, dict[str, Any]] | None = None
    status: str | None = MailingStatus.SENDING.value
    next_check = 0.0
    try:
        for index, (delivery_id, email_normalised, attempts, (email, name)) in enumerate(work):
            throttle.wait()
            if time.monotonic() >= next_check:  # pause and cancel take effect within 0.5 s
                status = db.session.scalar(select(Mailing.status).where(Mailing.id == mailing_id))
                next_check = time.monotonic() + STATUS_CHECK_SECONDS
            if outcome is not None:
                _set(outcome[0], **outcome[1])
                outcome = None
            if status != MailingStatus.SENDING:
                _release([w[0] for w in work[index:]], status or "")
                report.stopped = True
                break
            now = utcnow()
            mine = db.session.execute(
                update(MailingDelivery)
                .where(
                    MailingDelivery.id == delivery_id,
                    MailingDelivery.status == DeliveryStatus.CLAIMED.value,
                    MailingDelivery.claimed_until > now,
                )
                .values(
                    status=DeliveryStatus.SENDING.value,
                    attempts=attempts + 1,
                    claimed_until=now + timedelta(seconds=lease_seconds),
                )
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            unit_of_work.commit()
            if not mine:
                # Our lease lapsed (a very slow batch): the rows are someone else's now.
                report.error = "lease lapsed"
                break
            message = mailing_message(content, delivery_id, name, email)
            try:
                connection.send(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                code = smtp_code(exc)
                if code is not None and 500 <= code < 600:
                    suppress(email_normalised, f"smtp {code}")
                    outcome = (delivery_id, _final(DeliveryStatus.FAILED, f"smtp {code}"))
                    report.failed += 1
                elif attempts + 1 >= MAX_ATTEMPTS:
                    outcome = (delivery_id, _final(DeliveryStatus.FAILED, f"gave up: smtp {code}"))
                    report.failed += 1
                else:
                    outcome = (delivery_id, _final(DeliveryStatus.PENDING, f"smtp {code}"))
                    report.retry += 1
                try:
                    if connection.host is not None:
                        connection.host.rset()
                except OSError:
                    _abandon(connection)
                    _release([w[0] for w in work[index + 1 :]], MailingStatus.SENDING.value)
                    report.error = "connection lost after refusal"
                    break
            except OSError as exc:
                # Timed out or cut off mid-message: it may have been delivered, so not again.
                _abandon(connection)
                outcome = (
                    delivery_id,
                    _final(DeliveryStatus.UNKNOWN, f"connection: {type(exc).__name__}"),
                )
                report.unknown += 1
                _release([w[0] for w in work[index + 1 :]], MailingStatus.SENDING.value)
                report.error = f"connection: {type(exc).__name__}"
                break
            else:
                outcome = (delivery_id, _final(DeliveryStatus.SENT, None, sent=True))
                report.sent += 1
        if outcome is not None:
            _set(outcome[0], **outcome[1])
        unit_of_work.commit()
    finally:
        connection.__exit__(None, None, None)
    return report


def _final(status: DeliveryStatus, error: str | None, sent: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {"status": status.value, "claimed_until": None, "error": error}
    if sent:
        values["sent_at"] = utcnow()
    return values


def finish_if_done(mailing_id: int) -> bool:
    """Mark a sending mailing done once no row is pending or in a worker's hands."""
    open_rows = db.session.scalar(
        select(
            exists().where(
                MailingDelivery.mailing_id == mailing_id,
                MailingDelivery.status.in_(
                    [
                        DeliveryStatus.PENDING.value,
                        DeliveryStatus.CLAIMED.value,
                        DeliveryStatus.SENDING.value,
                    ]
                ),
            )
        )
    )
    if open_rows:
        return False
    changed = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING.value)
        .values(status=MailingStatus.DONE.value, finished_at=utcnow(), runner_until=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    unit_of_work.commit()
    return bool(changed)


def batch_size(rate: float) -> int:
    """A batch must be sent well within its lease, whatever the rate."""
    size = int(current_app.config["MAILING_BATCH_SIZE"])
    if rate > 0:
        size = min(size, max(1, int(rate * current_app.config["MAILING_LEASE_SECONDS"] / 2)))
    return size


@dataclass
class RunReport:
    batches: BatchReport = field(default_factory=BatchReport)
    more: bool = False  # stopped on the time budget with work left: queue another run


def run(
    mailing_id: int, budget_seconds: float = 60.0, throttle: Throttle | None = None
) -> RunReport:
    """Prepare if needed, then send batch after batch until done, paused, or out of time."""
    config = current_app.config
    result = RunReport()
    if prepare(mailing_id):
        unit_of_work.commit()
    status = db.session.scalar(select(Mailing.status).where(Mailing.id == mailing_id))
    if status != MailingStatus.SENDING:
        unit_of_work.rollback()
        return result
    throttle = throttle or Throttle(config["MAILING_RATE_PER_SECOND"])
    deadline = time.monotonic() + budget_seconds
    while True:
        ids = claim(mailing_id, batch_size(throttle.rate))
        if not ids:
            finish_if_done(mailing_id)
            break
        report = send_batch(mailing_id, ids, throttle)
        result.batches.add(report)
        if report.stopped or report.error:
            break
        if time.monotonic() >= deadline:
            result.more = True
            break
    db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id)
        .values(runner_until=None)
        .execution_options(synchronize_session=False)
    )
    unit_of_work.commit()
    return result


def due_mailings() -> list[int]:
    """Mailings that should be sending but nobody is: for the sweeper to re-queue."""
    now = utcnow()
    recover_expired()
    unit_of_work.commit()
    nobody = or_(Mailing.runner_until.is_(None), Mailing.runner_until < now)
    # A worker that died on the very last row leaves nothing pending: finish those here.
    stranded = db.session.scalars(
        select(Mailing.id).where(Mailing.status == MailingStatus.SENDING.value, nobody)
    ).all()
    for mailing_id in stranded:
        finish_if_done(mailing_id)
    pending = exists().where(
        MailingDelivery.mailing_id == Mailing.id,
        MailingDelivery.status == DeliveryStatus.PENDING.value,
    )
    return list(
        db.session.scalars(
            select(Mailing.id)
            .where(
                nobody,
                or_(
                    and_(Mailing.status == MailingStatus.QUEUED.value, due(now)),
                    and_(Mailing.status == MailingStatus.SENDING.value, pending),
                ),
            )
            .order_by(Mailing.id)
        )
    )
