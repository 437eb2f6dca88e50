from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.campaigns.models import Campaign
from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base

SIGNATURE_CONFIRMED = "signature.confirmed"
SIGNATURE_WITHDRAWN = "signature.withdrawn"
SIGNATURE_INVALIDATED = "signature.invalidated"
RSVP_CONFIRMED = "rsvp.confirmed"  # with its status: going, waitlisted or full
RSVP_CANCELLED = "rsvp.cancelled"
RSVP_PROMOTED = "rsvp.promoted"  # from the waitlist to a place
# A letter is a signature too (signature.* fire for it); these name it as what it is.
OUTREACH_CONFIRMED = "outreach.confirmed"  # confirmed by its writer: on its way to the targets
OUTREACH_WITHDRAWN = "outreach.withdrawn"
OUTREACH_INVALIDATED = "outreach.invalidated"
EVENTS = (
    SIGNATURE_CONFIRMED,
    SIGNATURE_WITHDRAWN,
    SIGNATURE_INVALIDATED,
    RSVP_CONFIRMED,
    RSVP_CANCELLED,
    RSVP_PROMOTED,
    OUTREACH_CONFIRMED,
    OUTREACH_WITHDRAWN,
    OUTREACH_INVALIDATED,
)
RSVP_EVENTS = (RSVP_CONFIRMED, RSVP_CANCELLED, RSVP_PROMOTED)
OUTREACH_EVENTS = (OUTREACH_CONFIRMED, OUTREACH_WITHDRAWN, OUTREACH_INVALIDATED)
# The action kind an event is about, where it is about one kind only.
EVENT_KIND = dict.fromkeys(OUTREACH_EVENTS, "letter")


class WebhookEndpoint(Base):
    """A URL an organiser registered to receive a campaign's signature events."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    # The HMAC key. Kept readable because every delivery is signed with it.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(EVENTS))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # RSVP answers marked sensitive (e.g. access needs) go out only when the organiser opts in.
    include_sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    campaign: Mapped[Campaign] = relationship()


class WebhookDelivery(Base):
    """One event for one endpoint: written with the change, delivered by the workers.

    Like the mail outbox it names what happened and to which signature; the worker builds
    the body at send time, so no personal data is copied into this table.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_due",
            "available_at",
            postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL AND failed_at IS NULL"),
        ),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    signature_id: Mapped[int] = mapped_column(BigId)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))

    endpoint: Mapped[WebhookEndpoint] = relationship()

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.failed_at is not None:
            return "failed"
        return "retrying" if self.attempts else "queued"
