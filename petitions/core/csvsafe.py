"""Spreadsheet-safe CSV cells (CSV/formula injection, OWASP)."""

from __future__ import annotations

from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text a spreadsheet will not run: a leading formula character gets a ``'`` in front."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_TRIGGERS):
        return "'" + text
    return text
