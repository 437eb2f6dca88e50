"""Email addresses: the one place that decides which we accept, how we dedupe and how we send.

* ``normalise_email`` validates an address the way it will be sent. Unless ``MAIL_SMTPUTF8``
  is on, the part before the @ must be ASCII: Flask-Mail cannot put ``zoë@…`` on the wire, and
  such an address would otherwise be accepted and then never mailed. Domains may be Unicode;
  they are sent IDNA-encoded (``wire_address``).
* ``canonical_email`` is the duplicate-check key: one inbox, one key. Only providers whose
  rules are documented are folded (see docs/security.md, "One inbox, one signature").
* What the person typed is kept and mailed as typed; neither key is ever used as a recipient.
"""

from __future__ import annotations

import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from petitions.core.i18n import N_


class EmailError(ValueError):
    pass


NON_ASCII_LOCAL_PART = N_(
    "We can't send email to an address with accents or other special letters before the @. "
    "Please use an address written with a–z, 0–9 and . _ - + before the @."
)


def _smtputf8() -> bool:
    return bool(has_app_context() and current_app.config.get("MAIL_SMTPUTF8", False))


def normalise_email(value: str) -> str:
    """The one spelling of an address we dedupe on: validated, trimmed, lower-cased."""
    value = (value or "").strip()
    if not value:
        raise EmailError(_l("Enter your email address."))
    if len(value) > 254:
        raise EmailError(_l("That email address is too long."))
    smtputf8 = _smtputf8()
    if not smtputf8 and not value.rpartition("@")[0].isascii():
        raise EmailError(_l(NON_ASCII_LOCAL_PART))
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=smtputf8)
    except EmailNotValidError as exc:
        raise EmailError(_l("Enter a valid email address, like name@example.org.")) from exc
    return result.normalized.lower()


def limit_key(value: str | None) -> str:
    """The spelling every rate limit that involves an address keys on.

    It is the normalised address (what login and signing look people up by), folded further
    with NFKC and case-folding so that look-alike spellings of one address (fullwidth letters,
    a fullwidth ``＠``, ``ß`` for ``ss``) share one bucket; input that is not an address at all is
    folded the same way, so no spelling escapes its limit. Merging buckets only ever makes a
    limit stricter, never easier to get around.
    """
    raw = unicodedata.normalize("NFKC", value or "").strip()
    try:
        key = normalise_email(raw)
    except EmailError:
        key = raw
    return unicodedata.normalize("NFKC", key).casefold()[:254]


# Providers whose addresses ignore dots and a "+tag" in the local part, and the domain each
# alias stands for. Gmail documents both (support.google.com/mail/answer/7436150 and 10313);
# googlemail.com is the same service's older domain. Other providers' rules differ (a dot is
# significant at Outlook, "+" is an ordinary character at many), so they are left alone.
_FOLDED_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_email(email_normalised: str) -> str:
    """The key one inbox gets, whichever of its spellings was typed (from a normalised address).

    ``J.Ohn+news@googlemail.com`` and ``john@gmail.com`` are one Gmail inbox: dots and the
    ``+tag`` are dropped and googlemail.com becomes gmail.com. Everywhere else the normalised
    address is the key as it is (a ``+tag`` is not stripped: at other providers it may be a
    different mailbox, and a wrong merge would silently drop a real person's signature).
    """
    local, _, domain = email_normalised.rpartition("@")
    folded = _FOLDED_DOMAINS.get(domain)
    if folded is None or not local:
        return email_normalised
    local = local.split("+", 1)[0].replace(".", "")
    return f"{local or email_normalised.rpartition('@')[0]}@{folded}"


def wire_address(address: str) -> str:
    """The address as SMTP needs it: the domain IDNA-encoded (the local part as it is).

    Raises ``UnicodeError`` for a domain IDNA cannot encode (the outbox records that message
    as unsendable; it never stalls the others).
    """
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise UnicodeError(f"domain cannot be IDNA-encoded: {exc}") from exc
    return f"{local}@{ascii_domain}"
