"""A batch of confirmation emails built at once is the same emails built one by one.

``build_confirmations`` renders each action's templates once per language with stand-ins for
the name and the token: compared here with ``build_confirmation`` for names that need
escaping, in English and in Welsh, with working tokens; a template that uses more than the
name is built one by one; one email's failure is its own; a batch builder that raises leaves
every email to the single builder.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from petitions.core.tokens import TokenState, check_token
from petitions.extensions import db
from petitions.mailer import services as mailer
from petitions.mailer.models import OutboxMessage
from petitions.mailer.registry import BATCH_BUILDERS, BuiltEmail
from petitions.signing import notifications
from petitions.signing.services import CONFIRM_EMAIL_KIND, CONFIRM_PURPOSE
from tests.support.smtp import SmtpSink

NAMES = ["Ann Example", 'O\'Brien & "Pat" <b>x</b>', "Siân Ŵyn-Ångström", "50% off %(name)s"]
_TOKEN = re.compile(r"/confirm/([A-Za-z0-9_-]{20,})")


def _shape(built: BuiltEmail) -> tuple[Any, ...]:
    """What an email says, with its own token replaced (each build issues a new one)."""
    message = built.message
    token = _TOKEN.search(message.body).group(1)  # type: ignore[union-attr]
    return (
        message.subject,
        message.recipients,
        message.sender,
        message.extra_headers,
        message.body.replace(token, "TOKEN"),  # type: ignore[union-attr]
        message.html.replace(token, "TOKEN"),  # type: ignore[union-attr]
        built.recipient,
    )


def test_a_batch_is_the_same_emails_as_one_by_one(factories: Any) -> None:
    action = factories.make_action(
        title="Stop <it> & now", translations={"cy": {"title": "Stopiwch"}}
    )
    ids = [
        factories.make_signature(action, f"s{n}-{lang}@example.org", name=name, language=lang)
        for n, name in enumerate(NAMES)
        for lang in ("en", "cy")
    ]
    batch = notifications.build_confirmations(ids)
    for signature_id in ids:
        alone = notifications.build_confirmation(signature_id)
        together = batch[signature_id]
        assert isinstance(together, BuiltEmail) and alone is not None
        assert _shape(together) == _shape(alone)
        token = _TOKEN.search(together.message.body).group(1)  # type: ignore[union-attr]
        assert token in together.message.html  # type: ignore[operator]
        check = check_token(token, CONFIRM_PURPOSE)
        assert check.state is TokenState.VALID and check.token is not None
        assert check.token.subject_id == signature_id
    welsh = [batch[i] for i in ids[1::2]]
    assert all(b.message.extra_headers["Content-Language"] == "cy" for b in welsh)  # type: ignore[union-attr]
    assert all("/cy/confirm/" in b.message.body for b in welsh)  # type: ignore[union-attr]


def test_confirmed_or_missing_signatures_get_nothing(factories: Any) -> None:
    action = factories.make_action()
    signature_id = factories.make_signature(action, "c@example.org")
    from petitions.signing.models import Signature

    db.session.get(Signature, signature_id).confirmed_at = db.func.now()  # type: ignore[union-attr]
    db.session.commit()
    assert notifications.build_confirmations([signature_id, 10**12]) == {
        signature_id: None,
        10**12: None,
    }


def test_a_template_that_uses_more_than_the_name_is_built_one_by_one(
    factories: Any, monkeypatch: Any
) -> None:
    action = factories.make_action()
    ids = [factories.make_signature(action, f"m{n}@example.org") for n in range(3)]

    def uses_the_postcode(signature: Any, *args: Any) -> tuple[str, str]:
        return signature.postcode, ""

    monkeypatch.setattr(notifications, "_render", uses_the_postcode)
    assert notifications.build_confirmations(ids) == {}  # all left to build_confirmation


def test_one_emails_failure_is_its_own(
    factories: Any, smtp_sink: SmtpSink, monkeypatch: Any
) -> None:
    action = factories.make_action()
    ids = [
        factories.make_signature(action, f"f{n}@example.org", name=f"Signer {n}") for n in range(4)
    ]
    real = notifications._message

    def breaks_on_two(subject: str, name: str, *args: Any) -> Any:
        if name == "Signer 2":
            raise RuntimeError("boom")
        return real(subject, name, *args)

    monkeypatch.setattr(notifications, "_message", breaks_on_two)
    report = mailer.drain()
    assert (report.sent, report.retried) == (3, 1)
    rows = {r.ref_id: r for r in db.session.scalars(select(OutboxMessage))}
    assert rows[ids[2]].sent_at is None and rows[ids[2]].last_error == "build: RuntimeError"
    assert sorted(m.envelope_to[0] for m in smtp_sink.messages) == [
        "f0@example.org",
        "f1@example.org",
        "f3@example.org",
    ]


def test_a_batch_builder_that_raises_leaves_every_email_to_the_single_builder(
    factories: Any, smtp_sink: SmtpSink, monkeypatch: Any
) -> None:
    action = factories.make_action()
    for n in range(3):
        factories.make_signature(action, f"r{n}@example.org")

    def broken(ids: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(BATCH_BUILDERS, CONFIRM_EMAIL_KIND, broken)
    report = mailer.drain()
    assert report.sent == 3 and not report.errors
    assert len(smtp_sink.messages) == 3
