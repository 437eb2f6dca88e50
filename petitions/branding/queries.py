"""The branding pages and emails use, read once per request or task (cached in ``g``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_app_context

from petitions.branding.models import DEFAULT_COLOUR, DEFAULT_NAME, Branding
from petitions.extensions import db


@dataclass(frozen=True)
class Brand:
    org_name: str = DEFAULT_NAME
    colour: str = DEFAULT_COLOUR
    privacy_url: str = ""
    contact_url: str = ""
    charity_number: str = ""
    sender_name: str = ""
    has_logo: bool = False
    logo_width: int = 0
    logo_height: int = 0
    version: str = "0"  # changes whenever the branding does (cache-busting query string)

    @property
    def is_default(self) -> bool:
        return self.org_name == DEFAULT_NAME and self.colour == DEFAULT_COLOUR


def current() -> Brand:
    """The branding now (defaults until an admin sets it)."""
    if has_app_context() and "branding" in g:
        return g.branding  # type: ignore[no-any-return]
    row = db.session.get(Branding, 1)
    brand = (
        Brand()
        if row is None
        else Brand(
            org_name=row.org_name or DEFAULT_NAME,
            colour=row.colour or DEFAULT_COLOUR,
            privacy_url=row.privacy_url or "",
            contact_url=row.contact_url or "",
            charity_number=row.charity_number or "",
            sender_name=row.sender_name or "",
            has_logo=row.logo_png is not None,
            logo_width=row.logo_width or 0,
            logo_height=row.logo_height or 0,
            version=str(int(row.updated_at.timestamp())) if row.updated_at else "0",
        )
    )
    if has_app_context():
        g.branding = brand
    return brand


def logo() -> bytes | None:
    row = db.session.get(Branding, 1)
    return row.logo_png if row is not None else None
