"""Offline tallies and paper signatures, folded into the action's tally by the count worker.

Like a signature, each row carries what it was last counted as (``counted``) and whether that
must change (``needs_count``); ``petitions.counting.jobs`` folds them into
``action_tallies.confirmed`` and ``action_tallies.paper``. No request touches a tally row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, case, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base


class OfflineTally(Base):
    """A count of signatures collected off-line (a stall, a postcard drop), with its source."""

    __tablename__ = "offline_tallies"
    __table_args__ = (
        Index(
            "ix_offline_tallies_needs_count",
            "id",
            postgresql_where=text("needs_count"),
            sqlite_where=text("needs_count"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(100))
    collected_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counted: Mapped[int] = mapped_column(Integer, default=0)
    needs_count: Mapped[bool] = mapped_column(Boolean, default=True)

    @hybrid_property
    def counts_as(self) -> int:
        """How many signatures this tally adds to the total now."""
        return 0 if self.removed_at is not None else self.count

    @counts_as.inplace.expression
    @classmethod
    def _counts_as_expression(cls) -> ColumnElement[int]:
        return case((cls.removed_at.is_(None), cls.count), else_=0)


class PaperSignature(Base):
    """One signature from a paper form, typed in by an organiser (no email: never contacted)."""

    __tablename__ = "paper_signatures"
    __table_args__ = (
        Index(
            "ix_paper_signatures_needs_count",
            "id",
            postgresql_where=text("needs_count"),
            sqlite_where=text("needs_count"),
        ),
        Index("ix_paper_signatures_action", "action_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(16))
    postcode_area: Mapped[str] = mapped_column(String(4), default="")
    country: Mapped[str] = mapped_column(String(2), default="GB")
    # The paper form's consent box was ticked (we keep no signature without it).
    consent_on_paper: Mapped[bool] = mapped_column(Boolean, default=False)
    collected_on: Mapped[date] = mapped_column(Date)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counted: Mapped[int] = mapped_column(Integer, default=0)
    needs_count: Mapped[bool] = mapped_column(Boolean, default=True)

    @hybrid_property
    def counts_as(self) -> int:
        return 0 if self.removed_at is not None else 1

    @counts_as.inplace.expression
    @classmethod
    def _counts_as_expression(cls) -> ColumnElement[int]:
        return case((cls.removed_at.is_(None), 1), else_=0)
