from __future__ import annotations

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
