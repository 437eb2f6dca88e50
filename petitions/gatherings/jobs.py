"""Reminders and follow-ups to attendees: exactly once per attendee per message.

This module owns its transactions (it calls ``unit_of_work.commit()`` per step); it sends
through the one batch sender (``petitions.mailer.batch``: 5xx fails and suppresses, 4xx back to
pending up to ``MAX_ATTEMPTS`` tries, one message's error fails it alone):

1. **Plan**: for each reminder offset (``EVENT_REMINDER_HOURS``, default 24 and 2) whose time
   has come for an event that is not cancelled and has not started, one
   :class:`EventDelivery` row per attendee with a place, ``UNIQUE (rsvp_id, message)``, so
   planning twice (two beats, a restarted beat) adds nothing. Someone whose RSVP came after
   several reminder times gets only the latest reminder; the earlier ones are recorded as
   skipped.
2. **Send**: pending rows are claimed with ``FOR UPDATE SKIP LOCKED``; each row is re-checked
   (still going, event not cancelled, not started) and moved to ``sending`` in a commit
   *before* it goes to SMTP, then to ``sent``. A worker that dies mid-send leaves one row in
   ``sending``; :func:`recover` marks it ``unknown`` and it is never retried, so nobody gets a
   reminder twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions.core import task_names, unit_of_work
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.gatherings.models import (
    DeliveryStatus,
    EventDelivery,
    EventDetails,
    FollowUp,
    Rsvp,
    RsvpStatus,
)
from petitions.mailer.batch import DeliveryRowSender, Outcome, Result
from petitions.mailer.registry import BuiltEmail
from petitions.mailer.services import is_suppressed

log = logging.getLogger(__name__)

REMINDER_TASK = task_names.SEND_REMINDERS
SENDING_STALE_SECONDS = 600
MAX_ATTEMPTS = 5


def reminder_hours() -> list[int]:
    raw = str(current_app.config.get("EVENT_REMINDER_HOURS", "24,2"))
    hours = sorted({int(h) for h in raw.replace(" ", "").split(",") if h.isdigit() and int(h) > 0})
    return sorted(hours, reverse=True)


def reminder_key(hours: int) -> str:
    return f"reminder:{hours}h"


def _insert() -> Any:
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


@dataclass
class Report:
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)


def plan_reminders(now: datetime | None = None, *, demo_now: bool = False) -> int:
    """Create the delivery rows for every reminder that is due. Commits. Returns rows added.

    ``demo_now`` (the ``flask events send-reminders --now`` command) treats every upcoming
    event as if the clock had reached its earliest reminder: it sends that reminder now, once.
    """
    now = now or utcnow()
    hours = reminder_hours()
    if not hours:
        return 0
    horizon = now + timedelta(days=3650 if demo_now else 0, hours=max(hours))
    events = list(
        db.session.scalars(
            select(EventDetails).where(
                EventDetails.cancelled_at.is_(None),
                EventDetails.starts_at > now,
                EventDetails.starts_at <= horizon,
            )
        )
    )
    added = 0
    for details in events:
        starts = details.starts_utc
        clock = starts - timedelta(hours=max(hours)) if demo_now else now
        due = [h for h in hours if starts - timedelta(hours=h) <= clock]
        if not due:
            continue
        latest = min(due)  # the reminder nearest the start is the one worth sending
        rsvp_ids = list(
            db.session.scalars(
                select(Rsvp.id).where(
                    Rsvp.action_id == details.action_id,
                    Rsvp.status == RsvpStatus.GOING.value,
                )
            )
        )
        for h in due:
            status = DeliveryStatus.PENDING if h == latest else DeliveryStatus.SKIPPED
            added += _add_rows(rsvp_ids, reminder_key(h), status)
        unit_of_work.commit()
    return added


def _add_rows(rsvp_ids: list[int], message: str, status: DeliveryStatus) -> int:
    if not rsvp_ids:
        return 0
    now = utcnow()
    result = db.session.execute(
        _insert()(EventDelivery)
        .values(
            [
                {
                    "rsvp_id": rsvp_id,
                    "message": message,
                    "status": status.value,
                    "attempts": 0,
                    "created_at": now,
                    "error": None if status is DeliveryStatus.PENDING else "superseded",
                }
                for rsvp_id in rsvp_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["rsvp_id", "message"])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def recover(now: datetime | None = None) -> int:
    """Rows left in ``sending`` by a worker that died: ``unknown``, never sent again."""
    cutoff = (now or utcnow()) - timedelta(seconds=SENDING_STALE_SECONDS)
    changed = db.session.execute(
        update(EventDelivery)
        .where(
            EventDelivery.status == DeliveryStatus.SENDING.value, EventDelivery.handed_at < cutoff
        )
        .values(status=DeliveryStatus.UNKNOWN.value, error="worker stopped mid-send")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    unit_of_work.commit()
    return int(changed or 0)


def _claim(limit: int) -> list[int]:
    ids = list(
        db.session.scalars(
            select(EventDelivery.id)
            .where(EventDelivery.status == DeliveryStatus.PENDING.value)
            .order_by(EventDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    return ids


def _set(delivery_id: int, **values: Any) -> None:
    db.session.execute(
        update(EventDelivery)
        .where(EventDelivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _build(delivery: EventDelivery) -> Any:
    """The message for one delivery, or None if it should not be sent any more."""
    from petitions.core.i18n import N_
    from petitions.gatherings.notifications import event_message, load

    ctx = load(delivery.rsvp_id)
    if ctx is None or ctx.details.is_cancelled or not ctx.rsvp.signature.is_valid:
        return None
    if ctx.rsvp.status != RsvpStatus.GOING.value:
        return None
    if delivery.message.startswith("reminder:"):
        if ctx.details.has_started():
            return None
        hours = int(delivery.message.split(":")[1].rstrip("h"))
        return event_message(
            ctx,
            notice="reminder",
            subject=N_("Reminder: %(title)s"),
            calendar_method="REQUEST",
            extra={"hours": hours},
        )
    if delivery.message.startswith("followup:"):
        followup = db.session.get(FollowUp, int(delivery.message.split(":")[1]))
        if followup is None:
            return None
        return event_message(
            ctx,
            notice="followup",
            subject=followup.subject,
            own_subject=True,
            extra={"followup_body": followup.body},
        )
    return None


def send_pending(batch_size: int = 50, max_batches: int = 20) -> Report:
    """Send what is pending, batch by batch, one SMTP connection per batch."""
    report = Report()
    for _ in range(max_batches):
        ids = _claim(batch_size)
        if not ids:
            unit_of_work.commit()
            break
        built: list[tuple[int, int, BuiltEmail]] = []
        for delivery_id in ids:
            delivery = db.session.get(EventDelivery, delivery_id)
            assert delivery is not None
            email = _build(delivery)
            if email is None or is_suppressed(email.recipient):
                _set(delivery_id, status=DeliveryStatus.SKIPPED.value, error="no longer due")
                report.skipped += 1
                continue
            attempt = int(delivery.attempts or 0) + 1
            _set(
                delivery_id,
                status=DeliveryStatus.SENDING.value,
                handed_at=utcnow(),
                attempts=EventDelivery.attempts + 1,
            )
            built.append((delivery_id, attempt, email))
        unit_of_work.commit()  # every row to send is now "sending": a crash cannot repeat it
        if built:
            _send(built, report)
        if report.errors:
            break
    return report


class _ReminderSender(DeliveryRowSender):
    """Rows are already ``sending`` (committed): each outcome is committed as it comes. A
    ``CUT`` outcome is ``unknown`` (never retried); 4xx go back to pending, up to
    ``MAX_ATTEMPTS``; rows not tried go back to pending."""

    name = "reminders"
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
            # Refused for now: it was not delivered, so it may be tried again.
            _set(delivery_id, status=DeliveryStatus.PENDING.value, error=outcome.error)
        else:
            _set(delivery_id, status=DeliveryStatus.FAILED.value, error=outcome.error)
            report.failed += 1
        unit_of_work.commit()

    def give_back(self, items: Sequence[tuple[int, int, BuiltEmail]], reason: str) -> None:
        for delivery_id, _, _ in items:
            _set(delivery_id, status=DeliveryStatus.PENDING.value, error=reason)
        unit_of_work.commit()


def _send(built: list[tuple[int, int, BuiltEmail]], report: Report) -> None:
    """Send one batch through the shared sender; SMTP trouble ends the run."""
    end = _ReminderSender(report).send(built)
    if end.error is not None:
        report.errors.append(end.error)


def run(now: datetime | None = None, *, demo_now: bool = False) -> Report:
    """Plan what is due, recover interrupted rows, send. The periodic task and the CLI."""
    recovered = recover(now)
    planned = plan_reminders(now, demo_now=demo_now)
    report = send_pending()
    report.planned = planned
    report.unknown += recovered
    return report


def delivery_counts(action_id: int) -> dict[str, dict[str, int]]:
    """{message: {status: n}} for an event, for the organiser's page."""
    from sqlalchemy import func

    rows = db.session.execute(
        select(EventDelivery.message, EventDelivery.status, func.count(EventDelivery.id))
        .join(Rsvp, Rsvp.id == EventDelivery.rsvp_id)
        .where(Rsvp.action_id == action_id)
        .group_by(EventDelivery.message, EventDelivery.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for message, status, n in rows:
        counts.setdefault(message, {})[status] = n
    return counts
