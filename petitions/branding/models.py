from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from petitions.core.time import utcnow
from petitions.extensions import Base

DEFAULT_NAME = "Petitions"
DEFAULT_COLOUR = "#0b5cab"


class Branding(Base):
    """One row (id 1): how the site and its emails present the organisation."""

    __tablename__ = "branding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_name: Mapped[str] = mapped_column(String(120), default=DEFAULT_NAME)
    colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_COLOUR)
    privacy_url: Mapped[str] = mapped_column(String(500), default="")
    contact_url: Mapped[str] = mapped_column(String(500), default="")
    charity_number: Mapped[str] = mapped_column(String(60), default="")
    sender_name: Mapped[str] = mapped_column(String(120), default="")
    # The logo, re-encoded as PNG by ``services.prepare_logo`` (no metadata survives).
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_width: Mapped[int] = mapped_column(Integer, default=0)
    logo_height: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
