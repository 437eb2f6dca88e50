"""The worker's cheaper MIME generation writes the same bytes, and batched marks lose nothing.

``smtp._Compat32`` skips the folding machinery only for headers compat32 would write
unchanged: compared here with compat32 itself, header by header on many values and on whole
confirmation emails. Sent rows are marked in batches (``OUTBOX_MARK_SENT_EVERY``): every row
still ends marked exactly as before, around a refused message in the middle of the batch.
"""

from __future__ import annotations

import random
import string
from email import policy
from typing import Any

from flask_mail import Message
from sqlalchemy import select

from petitions.extensions import db
from petitions.mailer import services as mailer
from petitions.mailer.models import OutboxMessage
from petitions.mailer.registry import BUILDERS
from petitions.mailer.smtp import _SMTP_COMPAT32, _set_boundaries
from petitions.signing.services import CONFIRM_EMAIL_KIND
from tests.support.factories import make_legacy_signature
from tests.support.smtp import SmtpSink

_REFERENCE = policy.compat32.clone(linesep="\r\n")
NAMES = ["To", "From", "Subject", "Content-Type", "X-Auto-Response-Suppress", "Message-ID"]


def _values() -> list[str]:
    rng = random.Random(14)
    alphabet = string.ascii_letters + string.digits + " \t;=<>@.,:\"'()?-_/+"
    values = ["", " ", "a", "=?utf-8?q?caf=C3=A9?=", "Zoë <zoe@example.org>", "a\r\nb", "x" * 200]
    for _ in range(20000):
        values.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 100))))
    return values


def test_headers_are_folded_exactly_as_compat32_folds_them() -> None:
    for value in _values():
        for name in NAMES:
            assert _SMTP_COMPAT32._fold(name, value, False) == _REFERENCE._fold(name, value, False)


def test_whole_messages_are_the_same_bytes(app_ctx: None) -> None:
    for name, subject in [
        ("Ann Example", "Please confirm your signature: Stop it now"),
        ("Zoë Ångström-Łukasz", "Please confirm your pledge: " + "a very long title " * 6),
        ('O\'Brien, "Pat"', "Ünïcode subject"),
    ]:
        message = Message(
            subject=subject,
            sender=("Petitions", "noreply@example.org"),
            recipients=[(name, "ann@example.org")],
            body="Text part\n-- \nsigned",
            html="<p>HTML part</p>",
            extra_headers={"Auto-Submitted": "auto-generated"},
        )
        mime = message._message()
        _set_boundaries(mime)
        assert mime.as_bytes(policy=_SMTP_COMPAT32) == mime.as_bytes(policy=_REFERENCE)


def test_sent_rows_are_marked_in_batches_around_a_refusal(
    factories: Any, smtp_sink: SmtpSink, app: Any, monkeypatch: Any
) -> None:
    monkeypatch.setitem(app.config, "OUTBOX_MARK_SENT_EVERY", 2)
    action = factories.make_action()
    addresses = [f"m{n}@example.org" for n in range(5)]
    addresses.insert(3, "refuse-me@example.org")
    smtp_sink.rcpt_replies.extend(["", "", "", "550 5.1.1 No such user"])  # the fourth
    ids = [make_legacy_signature(action, address) for address in addresses]

    report = mailer.drain()

    assert (report.sent, report.failed) == (5, 1)
    db.session.expire_all()
    rows = {r.ref_id: r for r in db.session.scalars(select(OutboxMessage))}
    for address, signature_id in zip(addresses, ids, strict=True):
        row = rows[signature_id]
        assert row.claimed_until is None
        if address.startswith("refuse"):
            assert row.sent_at is None and row.failed_at is not None
        else:
            assert row.sent_at is not None and row.failed_at is None and row.last_error is None
    delivered = sorted(m.envelope_to[0] for m in smtp_sink.messages)
    assert delivered == sorted(a for a in addresses if not a.startswith("refuse"))
    assert mailer.claim_batch() == []
    assert CONFIRM_EMAIL_KIND in BUILDERS
