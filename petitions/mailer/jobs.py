"""Draining the outbox (run by the workers). This module owns its transactions.

Draining claims rows atomically (``FOR UPDATE SKIP LOCKED`` plus a lease), builds each email,
sends the batch over one SMTP connection and marks every row as it goes. A worker killed
mid-batch leaves its rows leased; when the lease runs out the sweeper claims them again, so
a message is delivered at least once and at most one extra time.

Every message is on its own (docs/operations.md, "Outbox bounds"):

* whatever one message raises (an address Flask-Mail cannot encode, a builder's bug, a 4xx,
  a 5xx) is caught for that message alone and recorded on its row; the rest of the batch is
  sent over the same connection;
* a message that cannot ever be sent (an unencodable address) fails at once; other errors
  retry with backoff, and every claim counts an attempt, so after ``OUTBOX_MAX_ATTEMPTS`` the
  row is failed for good with its reason (``last_error``), shown to organisers — even a row
  whose worker died on it each time (``fail_exhausted``);
* when the server itself is away (no connection, or the connection dropped) no message is to
  blame: the rows go back uncharged and are tried again within ``OUTBOX_OUTAGE_RETRY_SECONDS``,
  so mail resumes within that (plus one sweep) of the server coming back, however long it was
  away. Only the message that was in flight when a connection dropped is charged an attempt.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, or_, select, update

from petitions.core import unit_of_work
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.batch import UNSENDABLE, BatchSender, Outcome, Result, describe
from petitions.mailer.models import OutboxMessage
from petitions.mailer.registry import BATCH_BUILDERS, BUILDERS, BuiltEmail
from petitions.mailer.suppression import suppressed_among

log = logging.getLogger(__name__)


def fail_exhausted() -> int:
    """Fail, with their reason, rows that used every attempt without an outcome.

    A message whose sending killed the worker (or one left by a version that retried it
    forever) comes back each time its lease runs out; each claim counted an attempt, so here
    it stops, instead of being claimed again ahead of everyone else's mail.
    """
    now = utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"],
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(
            failed_at=now,
            claimed_until=None,
            last_error=func.substr(
                func.coalesce(
                    "gave up after every attempt: " + OutboxMessage.last_error,
                    "gave up: the worker never finished sending it",
                ),
                1,
                200,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_batch(limit: int | None = None) -> list[int]:
    """Lease up to ``limit`` due rows to this worker and commit the lease."""
    config = current_app.config
    fail_exhausted()
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
    unit_of_work.commit()
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
    """Schedule another attempt with exponential backoff and jitter; False if out of tries.

    For what is wrong with this one message (a 4xx for its recipient, an unexpected error);
    the delay doubles from ``OUTBOX_RETRY_BASE_SECONDS`` up to ``OUTBOX_RETRY_MAX_SECONDS``.
    """
    config = current_app.config
    if row.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        _close(row.id, failed_at=utcnow(), last_error=f"gave up: {error}"[:200])
        return False
    delay = config["OUTBOX_RETRY_BASE_SECONDS"] * (2 ** (row.attempts - 1))
    delay = min(delay, config["OUTBOX_RETRY_MAX_SECONDS"]) * random.uniform(0.5, 1.5)
    _close(row.id, available_at=utcnow() + timedelta(seconds=delay), last_error=error[:200])
    return True


def _fail(row: _Claimed, error: str, report: DrainReport) -> None:
    """This message can never be sent: record why, for the organiser, and stop trying."""
    _close(row.id, failed_at=utcnow(), last_error=error[:200])
    report.failed += 1


def _give_back(rows: list[tuple[_Claimed, BuiltEmail]], reason: str, report: DrainReport) -> None:
    """The server is away, not these messages' fault: back soon, without using an attempt.

    Each is due again within ``OUTBOX_OUTAGE_RETRY_SECONDS`` (jittered down, never up), so
    mail resumes within that bound of the server returning, however long it was away.
    """
    if rows:
        ceiling = float(current_app.config["OUTBOX_OUTAGE_RETRY_SECONDS"])
        now = utcnow()
        for row, _ in rows:
            delay = ceiling * random.uniform(0.5, 1.0)
            _close(
                row.id,
                available_at=now + timedelta(seconds=delay),
                attempts=OutboxMessage.attempts - 1,  # the claim counted one: undo it
                last_error=reason[:200],
            )
            report.retried += 1
        unit_of_work.commit()
    report.errors.append(reason)


def _build(row: OutboxMessage) -> BuiltEmail | None | Exception:
    """Run the row's builder in a savepoint: its error is the row's, not the batch's."""
    builder = BUILDERS.get(row.kind)
    if builder is None:
        return None
    try:
        if db.session.get_bind().dialect.name != "postgresql":
            return builder(row.ref_id)  # pysqlite's savepoints are unreliable; development only
        with db.session.begin_nested():
            return builder(row.ref_id)
    except Exception as exc:  # noqa: BLE001 - isolated per message, recorded on the row
        log.warning("outbox %s: building %s failed: %s", row.id, row.kind, describe(exc))
        return exc


def _build_batches(rows: list[OutboxMessage]) -> dict[int, BuiltEmail | None | Exception]:
    """What the kinds' batch builders make of these rows, by outbox id (mailer/registry.py).

    Each kind's batch runs in one savepoint: if it raises, that savepoint is rolled back and
    its rows are left out of the answer, so ``_build`` makes each of them alone, in its own.
    A ref_id that occurs twice in the batch is built alone too (each email its own token).
    """
    by_kind: dict[str, dict[int, int]] = {}
    for row in rows:
        if row.kind in BATCH_BUILDERS:
            refs = by_kind.setdefault(row.kind, {})
            refs.setdefault(row.ref_id, row.id)
    built: dict[int, BuiltEmail | None | Exception] = {}
    postgres = db.session.get_bind().dialect.name == "postgresql"
    for kind, refs in by_kind.items():
        try:
            if postgres:
                with db.session.begin_nested():
                    made = BATCH_BUILDERS[kind](list(refs))
            else:
                made = BATCH_BUILDERS[kind](list(refs))  # as _build: development only
        except Exception as exc:  # noqa: BLE001 - each row is then built alone
            log.warning("outbox: batch of %s failed, building one by one: %s", kind, describe(exc))
            continue
        for ref_id, result in made.items():
            if ref_id in refs:
                if isinstance(result, Exception):
                    log.warning(
                        "outbox %s: building %s failed: %s", refs[ref_id], kind, describe(result)
                    )
                built[refs[ref_id]] = result
    return built


def send_batch(ids: list[int]) -> DrainReport:
    """Build and send the claimed rows over one SMTP connection."""
    report = DrainReport()
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))))
    rows.sort(key=lambda row: row.id)
    rows = [row for row in rows if row.sent_at is None and row.failed_at is None]
    # (a row already sent or failed: a redelivered task, already done)
    prebuilt = _build_batches(rows)
    candidates: list[tuple[_Claimed, BuiltEmail]] = []
    for row in rows:
        claimed = _Claimed(row.id, row.attempts)
        email = prebuilt[row.id] if row.id in prebuilt else _build(row)
        if isinstance(email, Exception):
            if isinstance(email, UNSENDABLE):
                _fail(claimed, f"cannot be built: {describe(email)}", report)
            elif not _retry_later(claimed, f"build: {describe(email)}"):
                report.failed += 1
            else:
                report.retried += 1
        elif email is None:
            _close(row.id, sent_at=utcnow(), last_error="nothing to send")
            report.skipped += 1
        else:
            candidates.append((claimed, email))
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
    unit_of_work.commit()
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


_MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id.in_(bindparam("p_ids", expanding=True)))
    .values(sent_at=bindparam("p_now"), claimed_until=None, last_error=None)
    .execution_options(synchronize_session=False)
)


class _OutboxSender(BatchSender[tuple[_Claimed, BuiltEmail]]):
    """The outbox's rows: a final outcome (refused, unsendable, or a retryable one on the
    ``OUTBOX_MAX_ATTEMPTS``-th claim) fails the row with its reason, a retryable one backs off
    (``_retry_later``), and messages not tried go back uncharged (``_give_back``).

    Sent rows are marked together, one UPDATE and one commit per ``OUTBOX_MARK_SENT_EVERY``
    messages (or ``OUTBOX_MARK_SENT_SECONDS``, whichever comes first), and before any other
    outcome is written; a worker killed in between re-sends at most those few when their lease
    runs out (each at most once more, as before). Other outcomes commit one by one."""

    name = "outbox"

    def __init__(self, report: DrainReport) -> None:
        config = current_app.config
        self.report = report
        self.max_attempts = int(config["OUTBOX_MAX_ATTEMPTS"])
        self.mark_every = max(1, int(config.get("OUTBOX_MARK_SENT_EVERY", 50)))
        self.mark_seconds = float(config.get("OUTBOX_MARK_SENT_SECONDS", 0.5))
        self.sent: list[int] = []
        self.first_sent_at = 0.0

    def attempt_of(self, item: tuple[_Claimed, BuiltEmail]) -> int:
        return item[0].attempts  # the claim counted this one

    def email_for(self, item: tuple[_Claimed, BuiltEmail]) -> BuiltEmail:
        return item[1]

    def key_of(self, item: tuple[_Claimed, BuiltEmail]) -> object:
        return item[0].id

    def record(self, item: tuple[_Claimed, BuiltEmail], outcome: Outcome) -> None:
        claimed, report = item[0], self.report
        if outcome.result is Result.SENT:
            if not self.sent:
                self.first_sent_at = time.monotonic()
            self.sent.append(claimed.id)
            report.sent += 1
            if (
                len(self.sent) >= self.mark_every
                or time.monotonic() - self.first_sent_at >= self.mark_seconds
            ):
                self._mark_sent()
            return
        self._mark_sent()
        if outcome.final:
            _fail(claimed, outcome.error or "", report)
        elif _retry_later(claimed, outcome.error or ""):
            report.retried += 1
        else:
            report.failed += 1
        unit_of_work.commit()

    def give_back(self, items: Sequence[tuple[_Claimed, BuiltEmail]], reason: str) -> None:
        self._mark_sent()
        _give_back(list(items), reason, self.report)

    def finish(self) -> None:
        self._mark_sent()

    def _mark_sent(self) -> None:
        if not self.sent:
            return
        db.session.execute(_MARK_SENT, {"p_ids": self.sent, "p_now": utcnow()})
        unit_of_work.commit()
        self.sent = []


def _send_built(built: list[tuple[_Claimed, BuiltEmail]], report: DrainReport) -> None:
    """Send built messages over one SMTP connection, recording each outcome as it goes."""
    _OutboxSender(report).send(built)


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
