from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
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
    # The language of the page they last asked for a sign-in link on: the link is written in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
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


class ConsentEvent(Base):
    """One change in what a person agreed to about campaign email: append-only.

    Rows are only ever added (never updated); erasure deletes a person's rows with the rest of
    their data. ``campaign_id`` is None for a choice about every campaign ("stop all email").
    ``kind`` is granted / withdrawn / suppressed; ``source`` says through what (the signature's
    tick, the one-click unsubscribe link, the preferences form, a bounce); an agreement keeps
    the exact wording agreed to (``consent_version_id``). What consent is *now* is not read
    from here but from the state it records (``petitions.supporters.consent.consenting``).
    """

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_email_normalised", "email_normalised", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email_normalised: Mapped[str] = mapped_column(String(254))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    # No foreign key: unconfirmed signatures are deleted by retention, the event stays.
    signature_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    consent_version_id: Mapped[int | None] = mapped_column(ForeignKey("consent_versions.id"))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
