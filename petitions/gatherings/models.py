"""Events (days of action, talks, online meetings) and the RSVPs to them.

An event is an :class:`~petitions.campaigns.models.Action` of kind ``event`` plus one
:class:`EventDetails` row; each RSVP is a :class:`~petitions.signing.models.Signature` (so
double opt-in, the outbox, counting, exports, "My actions" and the abuse checks apply as they
do to signatures) plus one :class:`Rsvp` row with the place it holds and its answers.

Places are handed out when the RSVP is *confirmed*, under a row lock on the event's details,
so capacity is never exceeded however many confirmations race; the waitlist is ordered by
``placed_at`` (first come, first served).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.campaigns.models import Action
from petitions.core.i18n import translated
from petitions.core.time import as_utc, utcnow
from petitions.core.types import BigId
from petitions.extensions import Base
from petitions.signing.models import Signature


class RsvpStatus(enum.StrEnum):
    PENDING = "pending"  # not confirmed by email yet: holds no place
    GOING = "going"
    WAITLISTED = "waitlisted"
    FULL = "full"  # confirmed while full, and the event keeps no waitlist
    CANCELLED = "cancelled"


HOLDS_PLACE = (RsvpStatus.GOING.value,)


class ReviewState(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"  # proposed; the host has not confirmed their email yet
    PENDING = "pending"  # confirmed by the host: waiting for an organiser
    APPROVED = "approved"
    REJECTED = "rejected"


class EventHosting(Base):
    """A campaign open to supporters proposing their own local events (a day of action)."""

    __tablename__ = "event_hosting"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    intro: Mapped[str] = mapped_column(Text, default="")
    # {"cy": {"intro": …}}: the Welsh pages show it, else ``intro`` (core.i18n.localised).
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EventDetails(Base):
    """When and where an event happens, and how many it takes. One per event action."""

    __tablename__ = "event_details"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        Index("ix_event_details_starts_at", "starts_at"),
    )

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    venue: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    postcode_area: Mapped[str] = mapped_column(String(4), default="")
    # Shown only to confirmed attendees (their emails, "My actions"), never on public pages.
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    waitlist: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"key": "guest", "label": "Are you bringing a guest?", "sensitive": false}, ...]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # iCalendar: the UID never changes; SEQUENCE rises with every change attendees are told of.
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Supporter-hosted events: who proposed it, and the organiser's decision. Organisers' own
    # events are approved from the start. A proposal is closed (not public) until approved.
    review: Mapped[str] = mapped_column(String(16), default="approved", server_default="approved")
    review_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    host_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    host_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # The language the host proposed it in (core.i18n): the emails to them are written in it.
    host_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # A supporter proposed it. Kept when the host erases themselves (name and email blanked),
    # so the organiser still sees and decides the proposal.
    hosted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    action: Mapped[Action] = relationship()

    @property
    def is_public(self) -> bool:
        return self.review == ReviewState.APPROVED.value

    @property
    def is_hosted(self) -> bool:
        return self.hosted

    @property
    def host_erased(self) -> bool:
        """The host erased themselves: nobody to email, and their host link stops working."""
        return self.hosted and not self.host_email

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def starts_utc(self) -> datetime:
        value = as_utc(self.starts_at)
        assert value is not None
        return value

    @property
    def ends_utc(self) -> datetime:
        value = as_utc(self.ends_at)
        assert value is not None
        return value

    @property
    def local_start(self) -> datetime:
        return self.starts_utc.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_utc.astimezone(self.zone)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_online(self) -> bool:
        return bool(self.online_url)

    @property
    def is_in_person(self) -> bool:
        return bool(self.venue or self.address)

    def has_started(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.starts_utc

    @property
    def place_line(self) -> str:
        """The public "where" in one line (never the online link)."""
        # The page's (or email's) language: the organiser's Welsh venue and address, if any.
        venue = self.venue and (translated(self.action, "venue") or self.venue)
        address = self.address and (translated(self.action, "address") or self.address)
        parts = [p for p in (venue, address, self.postcode) if p]
        if parts:
            where = ", ".join(parts)
            return str(_("%(where)s and online", where=where)) if self.is_online else where
        return str(_("Online")) if self.is_online else ""


class Rsvp(Base):
    """One person's RSVP to one event: the signature it is, the place it holds, the answers."""

    __tablename__ = "rsvps"
    __table_args__ = (Index("ix_rsvps_action_status_placed", "action_id", "status", "placed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), unique=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=RsvpStatus.PENDING.value)
    # Answers to the event's questions; those marked sensitive are kept apart, shown only to
    # the organiser, never sent in webhooks, and erased with the person.
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    sensitive_answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the RSVP was confirmed: its place in the queue for places (first come, first served).
    placed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    signature: Mapped[Signature] = relationship()
    action: Mapped[Action] = relationship()

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to SMTP; a worker dying now leaves it here, never retried
    SENT = "sent"
    SKIPPED = "skipped"  # cancelled meanwhile, the event was cancelled, or suppressed
    FAILED = "failed"
    UNKNOWN = "unknown"  # found in ``sending`` after a crash: not sent again, so never twice


class EventDelivery(Base):
    """One message (a reminder, a follow-up) to one attendee: the row that makes it once only."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("rsvp_id", "message"),
        Index("ix_event_deliveries_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rsvp_id: Mapped[int] = mapped_column(ForeignKey("rsvps.id", ondelete="CASCADE"))
    # "reminder:24h", "reminder:2h", "followup:<id>"
    message: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the row moved to ``sending`` (a row still sending long after is marked unknown).
    handed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(100))

    rsvp: Mapped[Rsvp] = relationship()


class FollowUp(Base):
    """A message the organiser sends after an event, to attendees or to those who did not come."""

    __tablename__ = "event_followups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(16))  # "attended" | "no_show" | "going"
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
