"""Changing the branding: colours must be readable (WCAG contrast), logos are checked, resized
and re-encoded so no metadata (location, camera, author) survives. Flushes, never commits."""

from __future__ import annotations

import re

from flask import g
from flask_babel import format_decimal
from flask_babel import gettext as _

from petitions.branding.models import Branding
from petitions.core.i18n import N_
from petitions.core.images import ImageRefused, ImageRules, reencode
from petitions.core.time import utcnow
from petitions.extensions import db

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PIXELS = 40_000_000  # decompression bombs stop here
LOGO_BOX = (480, 160)  # the logo is shrunk to fit this (header height is 40 px at 2x and 3x)
LOGO_RULES = ImageRules(
    noun=N_("a logo"),
    max_bytes=MAX_LOGO_BYTES,
    max_pixels=MAX_LOGO_PIXELS,
    box=LOGO_BOX,
    output="PNG",  # keeps a transparent background
)
MIN_CONTRAST = 4.5  # WCAG AA for normal text
COLOUR_SHAPE = re.compile(r"^#[0-9a-fA-F]{6}$")


class BrandingError(ValueError):
    """The message says what is wrong and what to do; ``field`` names the form field."""

    def __init__(self, message: str, field: str = "logo") -> None:
        super().__init__(message)
        self.field = field


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g_, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g_) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def check_colour(colour: str) -> str:
    if not COLOUR_SHAPE.match(colour or ""):
        raise BrandingError(_("Enter the colour as # and six hex digits, e.g. #0b5cab."), "colour")
    ratio = contrast(colour, "#ffffff")
    if ratio < MIN_CONTRAST:
        raise BrandingError(
            _(
                "White text on %(colour)s has a contrast of %(ratio)s:1; it needs at least "
                "%(least)s:1 to be readable (the header, buttons and links use it). "
                "Choose a darker colour.",
                colour=colour,
                ratio=format_decimal(ratio, "0.0"),
                least=format_decimal(MIN_CONTRAST, "0.0"),
            ),
            "colour",
        )
    return colour.lower()


def prepare_logo(data: bytes) -> tuple[bytes, int, int]:
    """An uploaded image as a PNG that fits ``LOGO_BOX``, with no metadata (core.images).
    BrandingError says why an upload was refused."""
    if not data:
        raise BrandingError(_("Choose an image file for the logo."))
    try:
        return reencode(data, LOGO_RULES)
    except ImageRefused as exc:
        raise BrandingError(str(exc)) from None


def _row() -> Branding:
    row = db.session.get(Branding, 1)
    if row is None:
        row = Branding(id=1)
        db.session.add(row)
    return row


def save(
    *,
    org_name: str,
    colour: str,
    privacy_url: str,
    contact_url: str,
    charity_number: str,
    sender_name: str,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Branding:
    row = _row()
    row.org_name = org_name.strip()[:120] or "Petitions"
    row.colour = check_colour(colour)
    row.privacy_url = privacy_url.strip()
    row.contact_url = contact_url.strip()
    row.charity_number = charity_number.strip()
    row.sender_name = sender_name.strip()
    if logo is not None:
        row.logo_png, row.logo_width, row.logo_height = prepare_logo(logo)
    elif remove_logo:
        row.logo_png, row.logo_width, row.logo_height = None, 0, 0
    row.updated_at = utcnow()
    db.session.flush()
    g.pop("branding", None)
    return row
