"""Aggregated counts, kept only by the count worker (``petitions.counting``), never per request."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from petitions.core.time import utcnow
from petitions.extensions import Base


class ActionTally(Base):
    __tablename__ = "action_tallies"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    pending: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    # Of ``confirmed``, how many were collected off-line (petitions.paper): tallies and paper
    # signatures, folded in by the same worker.
    paper: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TallyDaily(Base):
    """Confirmed signatures per action x day x country x source."""

    __tablename__ = "tally_daily"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class TallyHourly(Base):
    """Confirmed signatures per action x hour (UTC), for the recent-activity chart."""

    __tablename__ = "tally_hourly"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class TallyArea(Base):
    """Confirmed signatures per action x country x UK postcode area ('' outside the UK)."""

    __tablename__ = "tally_area"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    postcode_area: Mapped[str] = mapped_column(String(4), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class TallyReferrer(Base):
    """Confirmed signatures per action x referring site ('' when none was sent)."""

    __tablename__ = "tally_referrer"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    referrer: Mapped[str] = mapped_column(String(255), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class TallyPledge(Base):
    """Confirmed pledges per action x chosen option (only actions with pledge options)."""

    __tablename__ = "tally_pledge"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    option: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
