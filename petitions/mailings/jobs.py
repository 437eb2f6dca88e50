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
twice. The SMTP part (one connection, 4xx/5xx, RSET, a cut connection) is the one batch sender,
``petitions.mailer.batch``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update

from petitions.core import unit_of_work
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.batch import BatchSender, Outcome, Result, Stop
from petitions.mailer.registry import BuiltEmail
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
        row.id: (row.email, row.name, row.language)
        for row in db.session.execute(
            select(Signature.id, Signature.email, Signature.name, Signature.language).where(
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
            email, name, language = addresses[row.signature_id]
            work.append(_Work(row.id, row.email_normalised, row.attempts, email, name, language))
    unit_of_work.commit()
    if not work:
        return report

    # Each person gets it in the language they signed in: rendered once per language.
    contents = {language: content_for(mailing, language) for language in {w.language for w in work}}
    return _MailingSender(mailing_id, contents, throttle, report).run(work)


@dataclass(frozen=True)
class _Work:
    id: int
    email_normalised: str
    attempts: int  # before this try
    email: str
    name: str
    language: str  # the signature's: the email is written in it


class _MailingSender(BatchSender[_Work]):
    """Exactly once: each row is moved to ``sending`` in a commit before it goes to SMTP, and
    that commit carries the previous row's outcome too (one commit per message). A ``CUT``
    outcome is ``unknown`` (never retried); 4xx go back to pending up to ``MAX_ATTEMPTS``;
    pause and cancel are re-read every ``STATUS_CHECK_SECONDS`` and end the batch."""

    name = "mailing"
    max_attempts = MAX_ATTEMPTS

    def __init__(
        self,
        mailing_id: int,
        contents: dict[str, Any],
        throttle: Throttle,
        report: BatchReport,
    ) -> None:
        self.mailing_id = mailing_id
        self.contents = contents  # by language
        self.throttle = throttle
        self.report = report
        self.lease_seconds = current_app.config["MAILING_LEASE_SECONDS"]
        self.status: str | None = MailingStatus.SENDING.value
        self.next_check = 0.0
        self.outcome: tuple[int, dict[str, Any]] | None = None

    def run(self, work: list[_Work]) -> BatchReport:
        end = self.send(work)
        self.report.stopped = self.report.stopped or end.stopped
        self.report.error = self.report.error or end.error
        return self.report

    def attempt_of(self, item: _Work) -> int:
        return item.attempts + 1

    def _flush_outcome(self) -> None:
        if self.outcome is not None:
            _set(self.outcome[0], **self.outcome[1])
            self.outcome = None

    def email_for(self, item: _Work) -> BuiltEmail:
        self.throttle.wait()
        if time.monotonic() >= self.next_check:  # pause and cancel take effect within 0.5 s
            self.status = db.session.scalar(
                select(Mailing.status).where(Mailing.id == self.mailing_id)
            )
            self.next_check = time.monotonic() + STATUS_CHECK_SECONDS
        self._flush_outcome()
        if self.status != MailingStatus.SENDING:
            raise Stop("paused or cancelled")
        now = utcnow()
        mine = db.session.execute(
            update(MailingDelivery)
            .where(
                MailingDelivery.id == item.id,
                MailingDelivery.status == DeliveryStatus.CLAIMED.value,
                MailingDelivery.claimed_until > now,
            )
            .values(
                status=DeliveryStatus.SENDING.value,
                attempts=item.attempts + 1,
                claimed_until=now + timedelta(seconds=self.lease_seconds),
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        unit_of_work.commit()
        if not mine:
            # Our lease lapsed (a very slow batch): the rows are someone else's now.
            raise Stop("lease lapsed", give_back=False)
        message = mailing_message(self.contents[item.language], item.id, item.name, item.email)
        return BuiltEmail(message, item.email_normalised)

    def record(self, item: _Work, outcome: Outcome) -> None:
        report = self.report
        if outcome.result is Result.SENT:
            values = _final(DeliveryStatus.SENT, None, sent=True)
            report.sent += 1
        elif outcome.result is Result.CUT:
            # Timed out or cut off mid-message: it may have been delivered, so not again.
            values = _final(DeliveryStatus.UNKNOWN, outcome.error)
            report.unknown += 1
        elif outcome.result is Result.DEFERRED and not outcome.gave_up:
            values = _final(DeliveryStatus.PENDING, outcome.error)
            report.retry += 1
        else:  # refused for good, unsendable, out of tries, or an error: never sent twice
            values = _final(DeliveryStatus.FAILED, outcome.error)
            report.failed += 1
        self.outcome = (item.id, values)  # committed with the next row's move to sending

    def give_back(self, items: Sequence[_Work], reason: str) -> None:
        # Pending again (SMTP trouble, paused), or skipped (cancelled); finish() commits.
        _release([w.id for w in items], self.status or "")

    def finish(self) -> None:
        self._flush_outcome()
        unit_of_work.commit()


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
