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

import threading
import unicodedata
from typing import Any

import email_validator
import idna
from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from email_validator.syntax import (
    validate_email_domain_name,
    validate_email_length,
    validate_email_local_part,
)
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
    normalized = _plain_address_normalized(value, smtputf8)
    if normalized is None:
        try:
            normalized = validate_email(
                value, check_deliverability=False, allow_smtputf8=smtputf8
            ).normalized
        except EmailNotValidError as exc:
            raise EmailError(_l("Enter a valid email address, like name@example.org.")) from exc
    return normalized.lower()


def _plain_address_normalized(value: str, smtputf8: bool) -> str | None:
    """``validate_email(value, check_deliverability=False, allow_smtputf8=smtputf8).normalized``
    for a plain address — all ASCII, one @, no quotes or angle brackets — with the domain's
    checks (IDNA and UTS-46, most of email-validator's cost) kept per domain; None for any
    other address, and for any the checks refuse (the caller then asks ``validate_email``).

    The same steps as ``validate_email`` takes for such an address, with its own functions and
    settings: ``split_email`` splits it at its one @ (an ASCII string is its own NFC), no display
    name, no quoted local part, no domain literal, no deliverability check. Only the domain's
    result, a function of the domain and two settings alone, is kept. ``tests/core/test_emails``
    compares the two over a corpus of odd addresses.
    """
    if not value.isascii() or '"' in value or "<" in value:
        return None
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain or domain.startswith("["):
        return None
    try:
        domain_info = _domain_checked(
            domain, email_validator.TEST_ENVIRONMENT, email_validator.GLOBALLY_DELIVERABLE
        )
        local_info = validate_email_local_part(
            local,
            allow_smtputf8=smtputf8,
            allow_empty_local=email_validator.ALLOW_EMPTY_LOCAL,
            quoted_local_part=False,
            strict=email_validator.STRICT,
        )
        checked = ValidatedEmail()
        checked.original = value
        checked.local_part = local_info["local_part"]
        checked.ascii_local_part = local_info["ascii_local_part"]
        if (
            checked.ascii_local_part is not None
            and checked.ascii_local_part.lower() in CASE_INSENSITIVE_MAILBOX_NAMES
            and checked.local_part is not None
        ):  # RFC 2142's names (postmaster, abuse, ...): lower-cased, as validate_email does
            checked.ascii_local_part = checked.ascii_local_part.lower()
            checked.local_part = checked.local_part.lower()
        checked.domain = domain_info["domain"]
        checked.ascii_domain = domain_info["ascii_domain"]
        checked.normalized = f"{checked.local_part}@{checked.domain}"
        validate_email_length(checked)
    except EmailNotValidError:
        return None
    return checked.normalized


_MAX_DOMAINS = 4096  # any form can name a domain; the cache never grows past this
_domains: dict[tuple[str, bool, bool], Any] = {}
_domains_lock = threading.Lock()


def _domain_checked(domain: str, test_environment: bool, globally_deliverable: bool) -> Any:
    """``validate_email_domain_name``'s result, worked out once per domain (refusals are not
    kept: they raise each time, and the caller asks ``validate_email``)."""
    key = (domain, test_environment, globally_deliverable)
    info = _domains.get(key)
    if info is None:
        info = validate_email_domain_name(
            domain, test_environment=test_environment, globally_deliverable=globally_deliverable
        )
        with _domains_lock:
            if len(_domains) >= _MAX_DOMAINS:
                _domains.clear()
            _domains[key] = info
    return info


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
