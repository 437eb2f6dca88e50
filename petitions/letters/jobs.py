"""Delivering confirmed letters to their targets: at most once per (letter, target).

This module owns its transactions (it calls ``unit_of_work.commit()`` per step), like the
event reminders (``petitions.gatherings.jobs``):

* pending :class:`LetterDelivery` rows (written when the signature was confirmed) are claimed
  with ``FOR UPDATE SKIP LOCKED``; each is re-checked (still valid, target has an address)
  and moved to ``sending`` in a commit *before* it goes to SMTP, then to ``sent``. A worker
  that dies mid-send leaves the row in ``sending``; :func:`recover` marks it ``unknown`` and
  it is never retried, so no office gets the same letter twice.
* each target takes at most ``rate_per_minute`` letters a minute, counted in Redis (one
  ``INCR`` per send in the current minute, shared by every worker) or, without Redis, from
  the rows handed over in the last minute. A row over the rate waits (``not_before``).
* sending goes through the one batch sender (``petitions.mailer.batch``): SMTP 5xx is
  ``failed`` (and the address suppressed); 4xx back to pending five minutes later, up to
  ``MAX_ATTEMPTS`` tries; an address that cannot be sent, or an error, fails that row alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from petitions.core import task_names, unit_of_work
from petitions.core.redis import get_redis
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.letters.models import DeliveryStatus, Letter, LetterDelivery, LetterDetails
from petitions.mailer.batch import DeliveryRowSender, Outcome, Result
from petitions.mailer.registry import BuiltEmail
from petitions.mailer.services import is_suppressed

log = logging.getLogger(__name__)

DELIVER_TASK = task_names.DELIVER_LETTERS
SENDING_STALE_SECONDS = 600
MAX_ATTEMPTS = 5  # temporary (4xx) refusals before a delivery fails for good
RATE_KEY = "petitions:letters:rate:{}:{}"


@dataclass
class Report:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0
    waiting: int = 0


def recover(now: datetime | None = None) -> int:
    """Rows left in ``sending`` by a worker that died: ``unknown``, never sent again."""
    cutoff = (now or utcnow()) - timedelta(seconds=SENDING_STALE_SECONDS)
    changed = db.session.execute(
        update(LetterDelivery)
        .where(
            LetterDelivery.status == DeliveryStatus.SENDING.value,
            LetterDelivery.handed_at < cutoff,
        )
        .values(status=DeliveryStatus.UNKNOWN.value, error="worker stopped mid-send")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    unit_of_work.commit()
    return int(changed or 0)


def _set(delivery_id: int, **values: Any) -> None:
    db.session.execute(
        update(LetterDelivery)
        .where(LetterDelivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _claim(limit: int, now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(LetterDelivery.id)
            .where(
                LetterDelivery.status == DeliveryStatus.PENDING.value,
                or_(LetterDelivery.not_before.is_(None), LetterDelivery.not_before <= now),
            )
            .order_by(LetterDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def _rate_of(delivery: LetterDelivery) -> int:
    letter = db.session.get(Letter, delivery.letter_id)
    details = db.session.get(LetterDetails, letter.action_id) if letter else None
    return max(1, int(details.rate_per_minute)) if details else 4


def take_slot(target_id: int, rate: int, now: datetime) -> bool:
    """One send to this target in the current minute, if the rate allows (all workers)."""
    minute = int(now.timestamp() // 60)
    client = get_redis()
    if client is not None:
        key = RATE_KEY.format(target_id, minute)
        try:
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            used = int(pipe.execute()[0])
        except Exception:  # noqa: BLE001 - Redis down: send nothing now, try again later
            log.warning("letters: rate store unavailable; holding deliveries")
            return False
        return used <= rate
    start = datetime.fromtimestamp(minute * 60, tz=now.tzinfo)
    counted = db.session.scalar(
        select(func.count(LetterDelivery.id)).where(
            LetterDelivery.target_id == target_id,
            LetterDelivery.handed_at >= start,
        )
    )
    return int(counted or 0) < rate


def _next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def send_pending(
    batch_size: int = 50, max_batches: int = 20, now: datetime | None = None
) -> Report:
    """Send what is due, batch by batch, one SMTP connection per batch."""
    from petitions.letters.notifications import letter_message

    report = Report()
    for _ in range(max_batches):
        clock = now or utcnow()
        ids = _claim(batch_size, clock)
        if not ids:
            unit_of_work.commit()
            break
        built: list[tuple[int, int, BuiltEmail]] = []
        for delivery_id in ids:
            delivery = db.session.get(LetterDelivery, delivery_id)
            assert delivery is not None
            email = letter_message(delivery)
            if email is None or is_suppressed(email.recipient):
                _set(delivery_id, status=DeliveryStatus.SKIPPED.value, error="not deliverable")
                report.skipped += 1
                continue
            if not take_slot(delivery.target_id, _rate_of(delivery), clock):
                _set(delivery_id, not_before=_next_minute(clock))
                report.waiting += 1
                continue
            attempt = int(delivery.attempts or 0) + 1
            _set(
                delivery_id,
                status=DeliveryStatus.SENDING.value,
                handed_at=clock,
                recipient=email.recipient,
                attempts=LetterDelivery.attempts + 1,
            )
            built.append((delivery_id, attempt, email))
        unit_of_work.commit()  # every row to send is now "sending": a crash cannot repeat it
        if built and not _send(built, report):
            break
    return report


class _LetterSender(DeliveryRowSender):
    """Rows are already ``sending`` (committed): each outcome is committed as it comes. A
    ``CUT`` outcome is ``unknown`` (never retried); 4xx wait five minutes, up to
    ``MAX_ATTEMPTS``; rows not tried go back to pending."""

    name = "letters"
    max_attempts = MAX_ATTEMPTS

    def __init__(self, report: Report) -> None:
        self.report = report

    def record(self, item: tuple[int, int, BuiltEmail], outcome: Outcome) -> None:
        delivery_id, report = item[0], self.report
        if outcome.result is Result.SENT:
            _set(delivery_id, status=DeliveryStatus.SENT.value, sent_at=utcnow(), error=None)
            report.sent += 1
        elif outcome.result is Result.CUT:
            # The connection broke: this one's fate is unknown, never sent again.
            _set(delivery_id, status=DeliveryStatus.UNKNOWN.value, error=outcome.error)
            report.unknown += 1
        elif outcome.result is Result.DEFERRED and not outcome.gave_up:
            # Refused for now: not delivered, so it may be tried again later.
            _set(
                delivery_id,
                status=DeliveryStatus.PENDING.value,
                error=outcome.error,
                not_before=utcnow() + timedelta(minutes=5),
            )
        else:
            _set(delivery_id, status=DeliveryStatus.FAILED.value, error=outcome.error)
            report.failed += 1
        unit_of_work.commit()

    def give_back(self, items: Sequence[tuple[int, int, BuiltEmail]], reason: str) -> None:
        for delivery_id, _, _ in items:
            _set(delivery_id, status=DeliveryStatus.PENDING.value, error=reason)
        unit_of_work.commit()


def _send(built: list[tuple[int, int, BuiltEmail]], report: Report) -> bool:
    """Send one batch through the shared sender; False when SMTP trouble ended it."""
    return _LetterSender(report).send(built).error is None


def run(now: datetime | None = None) -> Report:
    """Recover interrupted rows, forget letters whose signatures retention anonymised, then
    send what is due. The task and the CLI."""
    from petitions.letters.services import forget

    recovered = recover(now)
    forget()
    unit_of_work.commit()
    report = send_pending(now=now)
    report.unknown += recovered
    return report
