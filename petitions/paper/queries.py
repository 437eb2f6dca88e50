"""What the paper page and the hand-in read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from petitions.extensions import db
from petitions.paper.models import OfflineTally, PaperSignature

RECENT = 50


@dataclass(frozen=True)
class PaperSummary:
    tallied: int  # sum of the live offline tallies
    signatures: int  # live paper signatures entered one by one

    @property
    def total(self) -> int:
        return self.tallied + self.signatures


def summary(action_id: int) -> PaperSummary:
    tallied = db.session.scalar(
        select(func.coalesce(func.sum(OfflineTally.count), 0)).where(
            OfflineTally.action_id == action_id, OfflineTally.removed_at.is_(None)
        )
    )
    signatures = db.session.scalar(
        select(func.count()).where(
            PaperSignature.action_id == action_id, PaperSignature.removed_at.is_(None)
        )
    )
    return PaperSummary(int(tallied or 0), int(signatures or 0))


def tallies(action_id: int) -> list[OfflineTally]:
    return list(
        db.session.scalars(
            select(OfflineTally)
            .where(OfflineTally.action_id == action_id)
            .order_by(OfflineTally.collected_on.desc(), OfflineTally.id.desc())
        )
    )


def live_tallies(action_id: int) -> list[OfflineTally]:
    return [t for t in tallies(action_id) if t.removed_at is None]


def recent_signatures(action_id: int, limit: int = RECENT) -> list[PaperSignature]:
    return list(
        db.session.scalars(
            select(PaperSignature)
            .where(PaperSignature.action_id == action_id)
            .order_by(PaperSignature.id.desc())
            .limit(limit)
        )
    )


def tally_of(action_id: int, tally_id: int) -> OfflineTally | None:
    row = db.session.get(OfflineTally, tally_id)
    return row if row is not None and row.action_id == action_id else None


def signature_of(action_id: int, signature_id: int) -> PaperSignature | None:
    row = db.session.get(PaperSignature, signature_id)
    return row if row is not None and row.action_id == action_id else None
