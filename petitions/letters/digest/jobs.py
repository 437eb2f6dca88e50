"""Sending the daily digests of letters: one email per recipient per day, at most once.

This module owns its transactions (``unit_of_work.commit()`` per step), like the letters'
delivery loop (``petitions.letters.jobs``). A letter action with **daily digest** chosen puts
each confirmed letter's rows in ``digest`` with ``not_before`` at the next
``LETTER_DIGEST_HOUR`` (or now, when the organiser sends the digest now). When that time has
passed, the rows of one recipient are claimed together (``FOR UPDATE SKIP LOCKED``),
re-checked one by one (still valid and confirmed, the recipient still has an address and is
not suppressed), moved to ``sending`` in a commit *before* SMTP, then to ``sent`` with the one
email that carried them all. A worker that dies mid-send leaves them in ``sending``, which
``letters.jobs.recover`` turns into ``unknown``: never sent twice.

Identical letters (the same words, ``body_hash``) are printed once with the list of everyone
who sent them (WriteToThem's lesson: an office reads one copy, and sees how many agree);
letters with words of their own are printed in full.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import select, update

from petitions.core import task_names, unit_of_work
from petitions.core.i18n import default_language, in_language
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.letters.models import (
    DeliveryStatus,
    Letter,
    LetterDelivery,
    LetterDetails,
    LetterTarget,
)
from petitions.letters.notifications import HEADERS, Recipient, letter_message, recipient_of
from petitions.letters.services import fill
from petitions.mailer.batch import BatchSender, Outcome, Result
from petitions.mailer.registry import BuiltEmail
from petitions.mailer.suppression import is_suppressed
from petitions.signing.models import Signature

log = logging.getLogger(__name__)

DIGEST_TASK = task_names.SEND_LETTER_DIGESTS
MAX_ATTEMPTS = 5
MAX_PER_DIGEST = 500  # a busier day goes in several emails (each still one per batch)


@dataclass
class Report:
    digests: int = 0
    letters: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass
class Digest:
    target_id: int
    delivery_ids: list[int]
    attempt: int
    email: BuiltEmail


@dataclass
class _Group:
    text: str
    writers: list[dict[str, str]] = field(default_factory=list)


def _set(ids: Sequence[int], **values: Any) -> None:
    db.session.execute(
        update(LetterDelivery)
        .where(LetterDelivery.id.in_(list(ids)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _due_target(now: datetime) -> int | None:
    """One recipient with digest rows due (locked, so two workers take different ones)."""
    return db.session.scalar(
        select(LetterDelivery.target_id)
        .where(
            LetterDelivery.status == DeliveryStatus.DIGEST.value,
            LetterDelivery.not_before <= now,
        )
        .order_by(LetterDelivery.not_before, LetterDelivery.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _claim(target_id: int, now: datetime) -> list[LetterDelivery]:
    return list(
        db.session.scalars(
            select(LetterDelivery)
            .where(
                LetterDelivery.target_id == target_id,
                LetterDelivery.status == DeliveryStatus.DIGEST.value,
                LetterDelivery.not_before <= now,
            )
            .order_by(LetterDelivery.id)
            .limit(MAX_PER_DIGEST)
            .with_for_update(skip_locked=True)
        )
    )


def build(
    target: LetterTarget, recipient: Recipient, rows: list[LetterDelivery], address: str
) -> BuiltEmail:
    """One email with these letters to one recipient: identical ones printed once."""
    details = db.session.get(LetterDetails, target.action_id)
    assert details is not None
    action = details.action
    groups: dict[str, _Group] = {}
    for row in rows:
        letter = db.session.get(Letter, row.letter_id)
        assert letter is not None
        signature = db.session.get(Signature, letter.signature_id)
        assert signature is not None
        writer = {
            "name": signature.name,
            "postcode": signature.postcode or "",
            "constituency": letter.constituency_name,
            "email": signature.email,
        }
        group = groups.get(letter.body_hash)
        if group is None:
            values = {"target_name": recipient.name, "target_title": recipient.title}
            group = groups[letter.body_hash] = _Group(fill(letter.body, values))
        group.writers.append(writer)
    shared = [g for g in groups.values() if len(g.writers) > 1]
    own = [g for g in groups.values() if len(g.writers) == 1]
    # Placeholders about the writer read as such in a letter several people sent.
    for group in shared:
        group.text = fill(
            group.text,
            {
                "supporter_name": "[name]",
                "postcode": "[postcode]",
                "constituency": "[constituency]",
            },
        )
    for group in own:
        writer = group.writers[0]
        group.text = fill(
            group.text,
            {
                "supporter_name": writer["name"],
                "postcode": writer["postcode"],
                "constituency": writer["constituency"],
            },
        )
    service_name, service_address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    service_name = service_name or "Petitions"
    count = len(rows)
    subject = f"{details.subject_for(False)}: {count} letter{'s' if count != 1 else ''} today"
    with in_language(default_language()):  # to the target: the site's own language
        body = render_template(
            "email/letter_digest.txt",
            recipient=recipient,
            action=action,
            campaign=action.campaign,
            count=count,
            shared=sorted(shared, key=lambda g: -len(g.writers)),
            own=own,
            service_name=service_name,
        )
    message = Message(
        subject=fill(subject, {"target_name": recipient.name, "target_title": recipient.title}),
        sender=(f"{service_name} letters", service_address),
        recipients=[(recipient.name, recipient.email)],
        body=body,
        extra_headers=HEADERS,
    )
    return BuiltEmail(message=message, recipient=address)


def _prepare(target_id: int, now: datetime, report: Report) -> Digest | None:
    """Claim and re-check one recipient's due rows; build their email. The caller commits."""
    rows = _claim(target_id, now)
    target = db.session.get(LetterTarget, target_id)
    recipient = recipient_of(target) if target is not None else None
    keep: list[LetterDelivery] = []
    address = ""
    for row in rows:
        # The same checks as a single letter (valid, confirmed, deliverable, not suppressed).
        single = letter_message(row)
        if single is None or recipient is None or is_suppressed(single.recipient):
            _set([row.id], status=DeliveryStatus.SKIPPED.value, error="not deliverable")
            report.skipped += 1
            continue
        keep.append(row)
        address = single.recipient
    if not keep or target is None or recipient is None:
        return None
    email = build(target, recipient, keep, address)
    attempt = max(int(r.attempts or 0) for r in keep) + 1
    ids = [r.id for r in keep]
    _set(
        ids,
        status=DeliveryStatus.SENDING.value,
        handed_at=now,
        recipient=email.recipient,
        attempts=LetterDelivery.attempts + 1,
    )
    return Digest(target_id, ids, attempt, email)


class _DigestSender(BatchSender[Digest]):
    """Each digest's rows are ``sending`` (committed) before it goes; its outcome is theirs."""

    name = "letter digests"
    max_attempts = MAX_ATTEMPTS

    def __init__(self, report: Report) -> None:
        self.report = report

    def email_for(self, item: Digest) -> BuiltEmail:
        return item.email

    def key_of(self, item: Digest) -> object:
        return f"target {item.target_id}"

    def attempt_of(self, item: Digest) -> int:
        return item.attempt

    def record(self, item: Digest, outcome: Outcome) -> None:
        if outcome.result is Result.SENT:
            _set(item.delivery_ids, status=DeliveryStatus.SENT.value, sent_at=utcnow(), error=None)
            self.report.digests += 1
            self.report.letters += len(item.delivery_ids)
        elif outcome.result is Result.CUT:
            _set(item.delivery_ids, status=DeliveryStatus.UNKNOWN.value, error=outcome.error)
        elif outcome.result is Result.DEFERRED and not outcome.gave_up:
            _set(
                item.delivery_ids,
                status=DeliveryStatus.DIGEST.value,
                error=outcome.error,
                not_before=utcnow() + timedelta(minutes=5),
            )
        else:
            _set(item.delivery_ids, status=DeliveryStatus.FAILED.value, error=outcome.error)
            self.report.failed += len(item.delivery_ids)
        unit_of_work.commit()

    def give_back(self, items: Sequence[Digest], reason: str) -> None:
        for item in items:
            _set(item.delivery_ids, status=DeliveryStatus.DIGEST.value, error=reason)
        unit_of_work.commit()


def send_due(now: datetime | None = None, max_digests: int = 200) -> Report:
    """Send every digest that is due, one recipient at a time."""
    report = Report()
    for _ in range(max_digests):
        clock = now or utcnow()
        target_id = _due_target(clock)
        if target_id is None:
            unit_of_work.commit()
            break
        digest = _prepare(target_id, clock, report)
        unit_of_work.commit()  # the rows are "sending" before SMTP: a crash cannot repeat them
        if digest is None:
            continue
        if _DigestSender(report).send([digest]).error is not None:
            break  # SMTP trouble: the rows were handed back; the next run tries again
    return report
