"""Postcode → Westminster constituency, constituencies, and the MP for each.

Loaded by operators from downloaded files (``flask --app petitions geo ...``, see
``petitions/geo/jobs.py`` and docs/letters.md); nothing is fetched at run time.

``geo_postcodes`` holds one row per (postcode, constituency): almost every postcode has one,
a few straddle a boundary and have two or more (the supporter picks). Postcodes are stored
compact and upper case ("SW1A1AA"); a lookup is one query on the primary key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from petitions.core.time import utcnow
from petitions.extensions import Base


class Constituency(Base):
    __tablename__ = "geo_constituencies"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)  # GSS, e.g. E14001172
    name: Mapped[str] = mapped_column(String(120))
    nation: Mapped[str] = mapped_column(String(16), default="")  # england, wales, ...


class PostcodeArea(Base):
    """One postcode in one constituency (the table a load replaces as a whole)."""

    __tablename__ = "geo_postcodes"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    constituency_code: Mapped[str] = mapped_column(String(16), primary_key=True)


class Representative(Base):
    """The Member of Parliament for a constituency (one current member per constituency)."""

    __tablename__ = "geo_representatives"

    constituency_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    party: Mapped[str] = mapped_column(String(80), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    photo_url: Mapped[str] = mapped_column(String(500), default="")
    contact_url: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
