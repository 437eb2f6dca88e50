"""UK postcodes as the geo tables store them: compact, upper case, validated by shape."""

from __future__ import annotations

import re

_FULL = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def compact(value: str) -> str:
    """'sw1a 1aa' → 'SW1A1AA' (spaces of any kind removed, upper case)."""
    return "".join((value or "").split()).upper()[:16]


def is_full(value: str) -> bool:
    return bool(_FULL.match(compact(value)))


def is_partial(value: str) -> bool:
    """Only the first half ('SW1A') or a district: not enough to find one constituency."""
    code = compact(value)
    return bool(_OUTWARD.match(code)) or bool(re.match(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9]$", code))


def pretty(value: str) -> str:
    code = compact(value)
    return f"{code[:-3]} {code[-3:]}" if len(code) > 4 else code


def is_northern_ireland(value: str) -> bool:
    return compact(value).startswith("BT")


def nation_of(code: str) -> str:
    return {"E": "england", "W": "wales", "S": "scotland", "N": "northern-ireland"}.get(
        (code or " ")[0], ""
    )
