"""The outbox: rows written with the change that needs an email, drained by workers.

Draining claims rows atomically (``FOR UPDATE SKIP LOCKED`` plus a lease), builds each email,
sends the batch over one SMTP connection and marks every row as it goes. A worker killed
mid-batch leaves its rows leased; when the lease runs out the sweeper claims them again, so
a message is delivered at least once and at most one extra time.
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions.core import events, task_names
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage, SuppressedAddress
from petitions.mailer.registry import BUILDERS, BuiltEmail
from petitions.mailer.smtp import open_connection, smtp_code

log = logging.getLogger(__name__)

DRAIN_TASK = task_names.DRAIN_OUTBOX


_OUTBOX: Any = OutboxMessage.__table__
_ENQUEUE = (
    sa_insert(_OUTBOX)
    .values(kind=bindparam("p_kind"), ref_id=bindparam("p_ref_id"))
    .returning(_OUTBOX.c.id)
)


def enqueue(kind: str, ref_id: int) -> int:
    """Add an outbox row to the current transaction; returns its id.

    One prebuilt Core statement: this runs once per signature, on the signing hot path.
    """
    return int(db.session.execute(_ENQUEUE, {"p_kind": kind, "p_ref_id": ref_id}).scalar_one())


def is_suppressed(email_normalised: str) -> bool:
    return db.session.get(SuppressedAddress, email_normalised) is not None


def suppressed_among(addresses: set[str]) -> set[str]:
    """Which of these (normalised) addresses are suppressed, in one query."""
    if not addresses:
        return set()
    return set(
        db.session.scalars(
            select(SuppressedAddress.email_normalised).where(
                SuppressedAddress.email_normalised.in_(addresses)
            )
        )
    )


def suppress(email_normalised: str, reason: str) -> None:
    table: Any = SuppressedAddress.__table__
    values = {"email_normalised": email_normalised, "reason": reason[:200], "created_at": utcnow()}
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    added = db.session.execute(insert(table).values(values).on_conflict_do_nothing()).rowcount  # type: ignore[attr-defined]
    if added:
        # No campaign email any more: the supporters' consent history records why.
        events.consent_changed.send(
            "mailer", email_normalised=email_normalised, consent=False, reason="bounce"
        )


def claim_batch(limit: int | None = None) -> list[int]:
    """Lease up to ``limit`` due rows to this worker and commit the lease."""
    config = current_app.config
    now = utcnow()
    limit = limit or config["OUTBOX_BATCH_SIZE"]
    ids = list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                claimed_until=now + timedelta(seconds=config["OUTBOX_LEASE_SECONDS"]),
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


@dataclass
class DrainReport:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    more: bool = False  # stopped at a bound with rows perhaps still due


def _close(message_id: int, **values: object) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class _Claimed:
    """What the send loop needs of an outbox row, as plain values: nothing for a commit to
    expire and reload once per message."""

    id: int
    attempts: int


def _retry_later(row: _Claimed, error: str) -> bool:
    """Schedule another attempt with exponential backoff and jitter; False if out of tries."""
    config = current_app.config
    if row.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        _close(row.id, failed_at=utcnow(), last_error=f"gave up: {error}"[:200])
        return False
    delay = config["OUTBOX_RETRY_BASE_SECONDS"] * (2 ** (row.attempts - 1))
    delay = min(delay, 6 * 3600) * random.uniform(0.5, 1.5)
    _close(row.id, available_at=utcnow() + timedelta(seconds=delay), last_error=error[:200])
    return True


def _give_back(rows: list[tuple[_Claimed, BuiltEmail]], reason: str, report: DrainReport) -> None:
    for row, _ in rows:
        if _retry_later(row, reason):
            report.retried += 1
        else:
            report.failed += 1
    db.session.commit()
    report.errors.append(reason)


def _abandon(connection: object) -> None:
    """Drop a broken connection without a polite QUIT that would wait out another timeout."""
    host = getattr(connection, "host", None)
    if host is not None:
        with contextlib.suppress(OSError):
            host.close()
    connection.host = None  # type: ignore[attr-defined]


def send_batch(ids: list[int]) -> DrainReport:
    """Build and send the claimed rows over one SMTP connection."""
    report = DrainReport()
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))))
    rows.sort(key=lambda row: row.id)
    candidates: list[tuple[_Claimed, BuiltEmail]] = []
    for row in rows:
        if row.sent_at is not None or row.failed_at is not None:
            continue  # a redelivered task: already done
        builder = BUILDERS.get(row.kind)
        email = builder(row.ref_id) if builder else None
        if email is None:
            _close(row.id, sent_at=utcnow(), last_error="nothing to send")
            report.skipped += 1
        else:
            candidates.append((_Claimed(row.id, row.attempts), email))
    # One query for the whole batch, not one per message (bench/README.md).
    suppressed = suppressed_among({email.recipient for _, email in candidates})
    built: list[tuple[_Claimed, BuiltEmail]] = []
    for claimed, email in candidates:
        if email.recipient in suppressed:
            _close(claimed.id, failed_at=utcnow(), last_error="address suppressed")
            report.skipped += 1
        else:
            built.append((claimed, email))
    # Tokens created by builders must exist before any link to them is mailed.
    db.session.commit()
    if not built:
        return report
    # The messages are built: the per-message commits below need not expire (and the next
    # access reload) every object the builders loaded.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        _send_built(built, report)
    finally:
        session.expire_on_commit = expire_on_commit
    return report


def _send_built(built: list[tuple[_Claimed, BuiltEmail]], report: DrainReport) -> None:
    """Send built messages over one SMTP connection, recording each outcome as it goes."""
    try:
        connection = open_connection()
        connection.__enter__()
    except OSError as exc:  # smtplib's errors are OSErrors too
        code = smtp_code(exc)
        _give_back(built, f"connect: {code or type(exc).__name__}", report)
        return

    try:
        for index, (claimed, email) in enumerate(built):
            try:
                connection.send(email.message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                code = smtp_code(exc)
                if code is not None and 500 <= code < 600:
                    _close(claimed.id, failed_at=utcnow(), last_error=f"smtp {code}")
                    suppress(email.recipient, f"smtp {code}")
                    report.failed += 1
                elif _retry_later(claimed, f"smtp {code}"):
                    report.retried += 1
                else:
                    report.failed += 1
                db.session.commit()
                # After a refused message the session needs a reset before the next one.
                try:
                    if connection.host is not None:
                        connection.host.rset()
                except OSError:
                    _abandon(connection)
                    _give_back(built[index + 1 :], "connection lost after refusal", report)
                    return
                continue
            except OSError as exc:
                # Disconnected or timed out: this and every later row are tried again later.
                _abandon(connection)
                _give_back(built[index:], f"connection: {type(exc).__name__}", report)
                return
            else:
                _close(claimed.id, sent_at=utcnow(), last_error=None)
                report.sent += 1
            db.session.commit()
    finally:
        connection.__exit__(None, None, None)
    return


def drain(max_batches: int = 50, max_seconds: float | None = None) -> DrainReport:
    """Send what is due, batch after batch, until nothing is left (or a bound is reached).

    ``max_seconds`` ends the run after the batch that crosses it (``report.more`` says so), so
    a worker process draining a backlog is free again within about one batch: counting and
    other short tasks queued meanwhile are not held up behind thousands of emails.
    """
    total = DrainReport()
    started = time.monotonic()
    for index in range(max_batches):
        if index and max_seconds is not None and time.monotonic() - started >= max_seconds:
            total.more = True
            break
        ids = claim_batch()
        if not ids:
            break
        report = send_batch(ids)
        total.sent += report.sent
        total.skipped += report.skipped
        total.retried += report.retried
        total.failed += report.failed
        total.errors.extend(report.errors)
        if report.errors:
            break  # the server is unwell: leave the rest to the next sweep
    else:
        total.more = True
    return total
