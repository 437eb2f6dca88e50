"""Bulk invalidation jobs (with what each changed, so it can be undone) and trending alerts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    UNDO_QUEUED = "undo_queued"
    UNDOING = "undoing"
    UNDONE = "undone"
    FAILED = "failed"


class InvalidationJob(Base):
    """An organiser's "invalidate everything matching these criteria" on one action."""

    __tablename__ = "invalidation_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    matched: Mapped[int] = mapped_column(Integer, default=0)  # at preview / start
    processed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    restored: Mapped[int] = mapped_column(Integer, default=0)
    # The invalidated_at this job wrote: undo restores only rows still carrying it.
    stamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(200))

    @property
    def progress(self) -> int:
        """Percent done of the current phase."""
        if self.status in (JobStatus.DONE, JobStatus.UNDONE):
            return 100
        total = self.changed if self.status == JobStatus.UNDOING else self.matched
        done = self.restored if self.status == JobStatus.UNDOING else self.processed
        return min(100, int(100 * done / total)) if total else 0


class InvalidatedSignature(Base):
    """One signature a job invalidated."""

    __tablename__ = "invalidated_signatures"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("invalidation_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    signature_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True
    )


class AlertKind(enum.StrEnum):
    IP = "ip"
    DOMAIN = "domain"


class TrendingAlert(Base):
    """An IP or email domain with an unusual share of an action's recent signatures."""

    __tablename__ = "trending_alerts"
    __table_args__ = (Index("ix_trending_alerts_action_open", "action_id", "dismissed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(254))
    recent: Mapped[int] = mapped_column(Integer)  # its signatures in the window
    window_total: Mapped[int] = mapped_column(Integer)  # all signatures in the window
    share: Mapped[float] = mapped_column(Float)
    baseline_share: Mapped[float] = mapped_column(Float, default=0.0)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
