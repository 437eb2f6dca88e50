"""Issue 11, finding 7: one Gmail inbox, one signature; every other address as it is.

The policy (``petitions.core.emails.canonical_email``, docs/security.md): at gmail.com and
googlemail.com dots and a ``+tag`` are dropped and googlemail.com is gmail.com; everywhere
else the normalised address is the key. What the person typed is kept and mailed.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from petitions.core.emails import canonical_email, normalise_email
from petitions.extensions import db
from petitions.mailer import services as mailer
from petitions.signing.models import Signature
from tests.support.smtp import SmtpSink
from tests.support.web import sign_via_form

RULES = [
    # Gmail: dots dropped
    ("j.o.h.n@gmail.com", "john@gmail.com"),
    # Gmail: +tag dropped
    ("john+petitions@gmail.com", "john@gmail.com"),
    # googlemail.com is gmail.com
    ("john@googlemail.com", "john@gmail.com"),
    # all three at once, any case
    ("J.Ohn+News@GoogleMail.com", "john@gmail.com"),
    # a local part that is only a tag is left alone rather than emptied
    ("+tag@gmail.com", "+tag@gmail.com"),
    # other providers: dots matter (Outlook, corporate servers)
    ("j.ohn@outlook.com", "j.ohn@outlook.com"),
    # other providers: +tag is not stripped (it may be a different mailbox there)
    ("john+petitions@example.org", "john+petitions@example.org"),
    ("john+x@fastmail.com", "john+x@fastmail.com"),
    # a look-alike domain is not Gmail
    ("j.ohn@gmail.co", "j.ohn@gmail.co"),
    ("j.ohn@mail.gmail.com", "j.ohn@mail.gmail.com"),
]


@pytest.mark.parametrize(("typed", "key"), RULES)
def test_canonical_key_per_rule(app_ctx: None, typed: str, key: str) -> None:
    assert canonical_email(normalise_email(typed)) == key


SPELLINGS = ["john@gmail.com", "j.ohn@gmail.com", "john+petition@gmail.com", "JOHN@googlemail.com"]


def test_one_gmail_inbox_signs_once_through_the_form(
    client: Any, factories: Any, smtp_sink: SmtpSink
) -> None:
    action = factories.make_action()
    db.session.commit()
    url = f"/c/{action.campaign.slug}/{action.slug}"
    responses = [sign_via_form(client, url, email=email) for email in SPELLINGS]
    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["Location"] for r in responses}) == 1  # nothing tells them apart

    rows = list(db.session.scalars(select(Signature).where(Signature.action_id == action.id)))
    assert len(rows) == 1
    assert rows[0].email == "john@gmail.com"  # as typed, first time
    assert rows[0].email_canonical == "john@gmail.com"


def test_the_confirmation_goes_to_the_address_as_typed(
    client: Any, factories: Any, smtp_sink: SmtpSink
) -> None:
    action = factories.make_action()
    db.session.commit()
    url = f"/c/{action.campaign.slug}/{action.slug}"
    sign_via_form(client, url, email="J.Ohn+Petition@GoogleMail.com")
    mailer.drain()
    (mail,) = smtp_sink.messages
    assert mail.envelope_to == ["J.Ohn+Petition@GoogleMail.com"]
    row = db.session.scalar(select(Signature))
    assert row.email == "J.Ohn+Petition@GoogleMail.com"
    assert row.email_normalised == "j.ohn+petition@googlemail.com"
    assert row.email_canonical == "john@gmail.com"


def test_tags_elsewhere_are_different_signatures(client: Any, factories: Any) -> None:
    action = factories.make_action()
    db.session.commit()
    url = f"/c/{action.campaign.slug}/{action.slug}"
    for email in ["ann@example.org", "ann+work@example.org", "a.nn@example.org"]:
        assert sign_via_form(client, url, email=email).status_code == 303
    assert len(list(db.session.scalars(select(Signature)))) == 3


def test_other_actions_are_signed_separately(factories: Any) -> None:
    first, second = factories.make_action(), factories.make_action()
    factories.make_signature(first, "j.ohn@gmail.com")
    factories.make_signature(second, "john+x@gmail.com")
    factories.make_signature(first, "john@googlemail.com")
    keys = sorted((s.action_id, s.email_canonical) for s in db.session.scalars(select(Signature)))
    assert keys == [(first.id, "john@gmail.com"), (second.id, "john@gmail.com")]
