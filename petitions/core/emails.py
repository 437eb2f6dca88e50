from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email


class EmailError(ValueError):
    pass


def normalise_email(value: str) -> str:
    """The one spelling of an address we dedupe on: validated, trimmed, lower-cased."""
    value = (value or "").strip()
    if not value:
        raise EmailError("Enter your email address.")
    if len(value) > 254:
        raise EmailError("That email address is too long.")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise EmailError("Enter a valid email address, like name@example.org.") from exc
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
