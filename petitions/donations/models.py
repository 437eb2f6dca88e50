"""A donation ask per campaign (or per action, overriding the campaign's), and its hits.

We take no payments: an ask names the charity's existing donation page. Every click goes
through our own endpoint (``/give/<ask id>``), which redirects only to the URL stored on the
ask and only when its host is on the allow-list (``DONATION_HOSTS``): never an open redirect.
Views and clicks are insert-only rows (no hot counter row on the thank-you path).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.campaigns.models import Campaign
from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base


class DonationAsk(Base):
    __tablename__ = "donation_asks"
    __table_args__ = (Index("ix_donation_asks_campaign_action", "campaign_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # None: the whole campaign; an action's own ask overrides the campaign's on its pages.
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    amounts: Mapped[list[int]] = mapped_column(JSON, default=list)
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    campaign: Mapped[Campaign] = relationship()


class DonationHit(Base):
    """One view of an ask on a page, or one click through to the donation page."""

    __tablename__ = "donation_hits"
    __table_args__ = (Index("ix_donation_hits_ask_kind", "ask_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("donation_asks.id", ondelete="CASCADE"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # 'view' or 'click'
    source: Mapped[str] = mapped_column(String(16))  # where: thanks, confirmed, ladder
    amount: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
