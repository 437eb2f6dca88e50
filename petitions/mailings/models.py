from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.campaigns.models import Action, Campaign, CampaignUpdate
from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base


class MailingKind(enum.StrEnum):
    UPDATE = "update"  # a campaign update, to the campaign's opted-in supporters
    GOAL_REACHED = "goal_reached"  # an action reached its goal, to that action's supporters
    COMPOSED = "composed"  # written in the composer (petitions.mailings.composer), no update


class Audience(enum.StrEnum):
    """Who a composed mailing is for; every audience is opted-in, confirmed supporters."""

    CAMPAIGN = "campaign"  # of any action of the campaign
    ACTION = "action"  # of one action (``Mailing.action_id``)
    PLEDGE = "pledge"  # who chose one option (``Mailing.pledge_option``) of one pledge


class MailingStatus(enum.StrEnum):
    DRAFT = "draft"  # being written in the composer: nobody is sent anything
    QUEUED = "queued"  # recipients not listed yet (``send_at`` in the future: scheduled)
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # leased to a worker's batch, not yet being sent
    SENDING = "sending"  # handed to SMTP; if the worker dies now we cannot know the outcome
    SENT = "sent"
    SKIPPED = "skipped"  # unsubscribed or suppressed meanwhile, or the mailing was cancelled
    FAILED = "failed"  # refused for good (5xx) or out of retries
    UNKNOWN = "unknown"  # the worker died mid-send: never retried, so nobody gets two


class Mailing(Base):
    """One email to many supporters. ``dedupe_key`` makes a second "send" the same mailing."""

    __tablename__ = "mailings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_updates.id", ondelete="SET NULL")
    )
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default=MailingKind.UPDATE.value)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=MailingStatus.QUEUED.value)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer, default=0)
    # A worker sending this mailing renews this lease; the sweeper re-queues once it lapses.
    runner_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Composed mailings (kind "composed"): the Markdown body and who it is for. ``action_id``
    # names the action of an "action" or "pledge" audience; ``confirmed_since`` narrows any
    # audience to supporters who confirmed on or after it.
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A composed mailing's subject and body in other languages ({"cy": {"subject": …, "body": …}});
    # each recipient gets theirs, else the fields above (core.i18n.localised). Migration 0028.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    audience: Mapped[str] = mapped_column(
        String(16), default=Audience.CAMPAIGN.value, server_default=Audience.CAMPAIGN.value
    )
    pledge_option: Mapped[str | None] = mapped_column(String(200))
    confirmed_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Not sent before this moment (None: as soon as it is queued).
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    campaign: Mapped[Campaign] = relationship()
    update: Mapped[CampaignUpdate | None] = relationship()
    action: Mapped[Action | None] = relationship()


class MailingDelivery(Base):
    """One recipient of one mailing: the record that makes sending exactly-once."""

    __tablename__ = "mailing_deliveries"
    __table_args__ = (
        UniqueConstraint("mailing_id", "email_normalised"),
        Index("ix_mailing_deliveries_mailing_status", "mailing_id", "status"),
        Index("ix_mailing_deliveries_email_normalised", "email_normalised"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"))
    email_normalised: Mapped[str] = mapped_column(String(254))
    # The signature whose name and address spelling the email uses.
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signatures.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(100))


class MailingTest(Base):
    """A test copy of a mailing sent to the organiser who asked (through the outbox)."""

    __tablename__ = "mailing_tests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("mailings.id", ondelete="CASCADE"), index=True
    )
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The language the copy is written in, as a recipient in it would get it (None: the
    # default). Migration 0031.
    language: Mapped[str | None] = mapped_column(String(8))


class MilestoneNotice(Base):
    """An action passed this percentage of its goal; recorded once, so mailed once."""

    __tablename__ = "milestone_notices"
    __table_args__ = (UniqueConstraint("action_id", "percent"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    percent: Mapped[int] = mapped_column(SmallInteger)
    confirmed: Mapped[int] = mapped_column(Integer)
    reached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
