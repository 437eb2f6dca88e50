"""Sending a mailing exactly once per recipient, in throttled batches, pausable and resumable.

Every recipient gets a ``MailingDelivery`` row (UNIQUE per mailing and address) when the
mailing starts. Workers lease batches of pending rows (``FOR UPDATE SKIP LOCKED``), open one
SMTP connection per batch, and move each row through ``claimed -> sending -> sent``. The
move of one row to ``sending`` is committed *before* it goes to SMTP, in the same commit as
the previous row's outcome, so after a crash at most one row per worker is in doubt; that
row is marked ``unknown`` and never retried. Leased rows that were never started go back to
``pending`` when their lease lapses, and the sweeper re-queues the mailing. A redelivered
task, a second worker or a second click on "send" therefore never mails anyone twice.
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
from sqlalchemy import and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions.campaigns.models import Action, CampaignUpdate
from petitions.core import task_names
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.services import enqueue, suppress
from petitions.mailer.smtp import open_connection, smtp_code
from petitions.mailings.models import (
    DeliveryStatus,
    Mailing,
    MailingDelivery,
    MailingKind,
    MailingStatus,
    MilestoneNotice,
)
from petitions.mailings.notifications import (
    MILESTONE_EMAIL_KIND,
    content_for,
    mailing_message,
)
from petitions.mailings.throttle import Throttle
from petitions.signing.models import Signature
from petitions.supporters.consent import consenting
from petitions.supporters.models import ERASED_PREFIX
from petitions.tallies.models import ActionTally

log = logging.getLogger(__name__)

SEND_TASK = task_names.SEND_MAILING
SWEEP_TASK = task_names.RESUME_MAILINGS
MILESTONE_TASK = task_names.CHECK_MILESTONES
MILESTONES = (25, 50, 75, 100)
MAX_ATTEMPTS = 5  # temporary (4xx) refusals before a delivery fails for good
STATUS_CHECK_SECONDS = 0.5  # how often a sending batch re-reads pause/cancel


def _insert() -> Any:
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- creating and controlling ----------------------------------------------------------------


def request_mailing(
    campaign_id: int,
    dedupe_key: str,
    subject: str,
    kind: MailingKind,
    update_id: int | None = None,
    action_id: int | None = None,
    organiser_id: int | None = None,
) -> tuple[Mailing, bool]:
    """Create the mailing, or return the existing one with this key. (mailing, created)."""
    new_id = db.session.execute(
        _insert()(Mailing)
        .values(
            campaign_id=campaign_id,
            update_id=update_id,
            action_id=action_id,
            kind=kind.value,
            dedupe_key=dedupe_key,
            subject=subject[:200],
            status=MailingStatus.QUEUED.value,
            created_by_id=organiser_id,
            created_at=utcnow(),
            total=0,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Mailing.id)
    ).scalar()
    mailing = db.session.scalar(select(Mailing).where(Mailing.dedupe_key == dedupe_key))
    assert mailing is not None
    return mailing, new_id is not None


def request_update_mailing(
    update: CampaignUpdate, organiser_id: int | None = None
) -> tuple[Mailing, bool]:
    """Email a campaign update to its opted-in supporters (once, however often it is asked)."""
    return request_mailing(
        update.campaign_id,
        f"update:{update.id}",
        update.title,
        MailingKind.UPDATE,
        update_id=update.id,
        organiser_id=organiser_id,
    )


def set_status(mailing: Mailing, wanted: MailingStatus) -> bool:
    """Pause, resume or cancel. Returns False when that change is not possible now."""
    allowed = {
        MailingStatus.PAUSED: {MailingStatus.SENDING, MailingStatus.QUEUED},
        MailingStatus.SENDING: {MailingStatus.PAUSED},
        MailingStatus.CANCELLED: {
            MailingStatus.SENDING,
            MailingStatus.QUEUED,
            MailingStatus.PAUSED,
        },
    }[wanted]
    if wanted is MailingStatus.SENDING and mailing.started_at is None:
        wanted = MailingStatus.QUEUED  # resumed before the recipients were listed
    values: dict[str, Any] = {"status": wanted.value}
    if wanted is MailingStatus.CANCELLED:
        values["finished_at"] = utcnow()
    changed = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.status.in_([s.value for s in allowed]))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if changed and wanted is MailingStatus.CANCELLED:
        db.session.execute(
            update(MailingDelivery)
            .where(
                MailingDelivery.mailing_id == mailing.id,
                MailingDelivery.status == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.SKIPPED.value, error="cancelled")
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(mailing)
    return bool(changed)


# --- recipients ------------------------------------------------------------------------------


def recipients_query(mailing: Mailing) -> Any:
    """(email_normalised, newest signature id) of everyone this mailing is for: confirmed,
    valid signers who consent *now* (``supporters.consent.consenting``: the one definition
    exports and the API use too)."""
    where = [
        Signature.confirmed_at.is_not(None),
        Signature.is_valid,
        consenting(mailing.campaign_id, Signature.email_normalised),
    ]
    if mailing.kind == MailingKind.GOAL_REACHED and mailing.action_id is not None:
        where.append(Signature.action_id == mailing.action_id)
    else:
        where.append(
            Signature.action_id.in_(
                select(Action.id).where(Action.campaign_id == mailing.campaign_id)
            )
        )
    return (
        select(Signature.email_normalised, func.max(Signature.id))
        .where(and_(*where))
        .group_by(Signature.email_normalised)
    )


def prepare(mailing_id: int) -> bool:
    """List the recipients of a queued mailing and start it. Once only (status guard)."""
    now = utcnow()
    started = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.QUEUED.value)
        .values(status=MailingStatus.SENDING.value, started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not started:
        return False
    mailing = db.session.get(Mailing, mailing_id)
    assert mailing is not None
    source = recipients_query(mailing).subquery()
    columns = ["mailing_id", "email_normalised", "signature_id", "status", "attempts"]
    # The status guard above makes this run once; the UNIQUE index is the backstop.
    db.session.execute(
        insert(MailingDelivery).from_select(
            columns,
            select(
                literal(mailing_id),
                source.c[0],
                source.c[1],
                literal(DeliveryStatus.PENDING.value),
                literal(0),
            ),
        )
    )
    total = db.session.scalar(select(func.count()).where(MailingDelivery.mailing_id == mailing_id))
    db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id)
        .values(total=total or 0)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(mailing)
    return True


# --- leasing ---------------------------------------------------------------------------------


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
    db.session.commit()
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
    db.session.commit()
    if not work:
        return report

    content = content_for(mailing)
    lease_seconds = current_app.config["MAILING_LEASE_SECONDS"]
    try:
        connection = open_connection()
        connection.__enter__()
    except OSError as exc:
        _release([w[0] for w in work], MailingStatus.SENDING.value)
        db.session.commit()
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
            db.session.commit()
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
        db.session.commit()
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
    db.session.commit()
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
        db.session.commit()
    status = db.session.scalar(select(Mailing.status).where(Mailing.id == mailing_id))
    if status != MailingStatus.SENDING:
        db.session.rollback()
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
    db.session.commit()
    return result


def due_mailings() -> list[int]:
    """Mailings that should be sending but nobody is: for the sweeper to re-queue."""
    now = utcnow()
    recover_expired()
    db.session.commit()
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
                    Mailing.status == MailingStatus.QUEUED.value,
                    and_(Mailing.status == MailingStatus.SENDING.value, pending),
                ),
            )
            .order_by(Mailing.id)
        )
    )


# --- progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    counts: dict[str, int]

    @property
    def sent(self) -> int:
        return self.counts.get(DeliveryStatus.SENT.value, 0)

    @property
    def done(self) -> int:
        waiting = {DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING}
        return sum(n for status, n in self.counts.items() if status not in waiting)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, int(self.done * 100 / self.total))


def progress(mailing: Mailing) -> Progress:
    counts = {
        status: int(n)
        for status, n in db.session.execute(
            select(MailingDelivery.status, func.count())
            .where(MailingDelivery.mailing_id == mailing.id)
            .group_by(MailingDelivery.status)
        )
    }
    return Progress(mailing.total, counts)


# --- milestones ------------------------------------------------------------------------------


def check_milestones() -> list[int]:
    """Record each 25/50/75/100 % an action has passed (once, by a UNIQUE row) and queue one
    email to the organiser for the highest newly passed. At 100 %, optionally tell the
    action's supporters. Returns the new notice ids; the caller commits."""
    rows = db.session.execute(
        select(Action.id, Action.goal, Action.campaign_id, Action.title, ActionTally.confirmed)
        .join(ActionTally, ActionTally.action_id == Action.id)
        .where(Action.goal > 0, ActionTally.confirmed * 4 >= Action.goal)
    ).all()
    created: list[int] = []
    for row in rows:
        passed = [p for p in MILESTONES if row.confirmed * 100 >= row.goal * p]
        new: list[tuple[int, int]] = []
        for percent in passed:
            notice_id = db.session.execute(
                _insert()(MilestoneNotice)
                .values(
                    action_id=row.id, percent=percent, confirmed=row.confirmed, reached_at=utcnow()
                )
                .on_conflict_do_nothing(index_elements=["action_id", "percent"])
                .returning(MilestoneNotice.id)
            ).scalar()
            if notice_id is not None:
                new.append((percent, notice_id))
        if not new:
            continue
        percent, notice_id = max(new)
        enqueue(MILESTONE_EMAIL_KIND, notice_id)
        created.append(notice_id)
        if percent == 100 and current_app.config["MILESTONE_TELL_SUPPORTERS"]:
            request_mailing(
                row.campaign_id,
                f"goal:{row.id}",
                f"We reached the goal: {row.title}",
                MailingKind.GOAL_REACHED,
                action_id=row.id,
            )
    return created
