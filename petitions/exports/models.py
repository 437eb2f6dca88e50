from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.campaigns.models import Action
from petitions.core.time import utcnow
from petitions.extensions import Base


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


class ExportKind(enum.StrEnum):
    CSV = "csv"  # every confirmed signature with contact details, for the organisers
    HANDIN = "handin"  # the printable PDF for the target (petitions.exports.handin)


class ExportJob(Base):
    """An export of an action's confirmed signatures (a CSV, or the hand-in PDF), written by a
    worker to instance/exports."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED.value)
    kind: Mapped[str] = mapped_column(
        String(16), default=ExportKind.CSV.value, server_default=ExportKind.CSV.value
    )
    # The hand-in's grouping ('' one list, 'area' by postcode area); see handin.GROUPINGS.
    grouping: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # The hand-in's language (an enabled language code); None: the default language.
    language: Mapped[str | None] = mapped_column(String(8))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    action: Mapped[Action] = relationship()

    @property
    def is_handin(self) -> bool:
        return self.kind == ExportKind.HANDIN

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.done * 100 / self.total))
