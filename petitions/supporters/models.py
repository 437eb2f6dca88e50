from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base

# An anonymised signature's ``email_normalised`` starts with this (it can never be an address).
ERASED_PREFIX = "erased:"


class Supporter(Base):
    """A person's email preferences, keyed by the one spelling of their address.

    Created the first time they sign in to "My actions" or unsubscribe; their signatures are
    found through ``Signature.email_normalised``, so nothing else is copied here.

    ``session_version`` is in every My actions session cookie; signing out raises it, so a
    copied cookie stops working at once (as organisers' sessions do).
    """

    __tablename__ = "supporters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email_normalised: Mapped[str] = mapped_column(String(254), unique=True)
    unsubscribed_all_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignOptOut(Base):
    """This supporter wants no more email about this campaign."""

    __tablename__ = "supporter_campaign_optouts"

    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
