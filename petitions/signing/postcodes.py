"""Postcodes: strict for the UK (where dashboards group by postcode area), lenient elsewhere."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_UK = re.compile(r"^([A-Z]{1,2})[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
_UK_SPECIAL = {"GIR 0AA", "GIR0AA"}
_OTHER = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,10}[A-Z0-9]$")
UK_CODES = {"GB", "GG", "JE", "IM"}


class PostcodeError(ValueError):
    pass


def normalise_postcode(value: str, country: str) -> tuple[str, str]:
    """Return (postcode, postcode area). The area is empty outside the UK."""
    raw = " ".join((value or "").upper().split())
    if not raw:
        raise PostcodeError(_l("Enter your postcode."))
    if country in UK_CODES:
        compact = raw.replace(" ", "")
        if compact in _UK_SPECIAL:
            return "GIR 0AA", "GIR"
        match = _UK.match(compact)
        if not match:
            raise PostcodeError(_l("Enter a full UK postcode, like SW1A 1AA."))
        return f"{compact[:-3]} {compact[-3:]}", match.group(1)
    if not _OTHER.match(raw):
        raise PostcodeError(_l("Enter a valid postcode or ZIP code."))
    return raw, ""
