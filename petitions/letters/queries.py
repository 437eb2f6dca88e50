"""What only reads: letter details, targets with their counts, the CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from petitions.extensions import db
from petitions.letters.models import (
    DELIVERED,
    DeliveryStatus,
    Letter,
    LetterDelivery,
    LetterDetails,
    LetterTarget,
    TargetKind,
)
from petitions.signing.models import Signature


def details_of(action_id: int) -> LetterDetails | None:
    return db.session.get(LetterDetails, action_id)


def targets_of(action_id: int) -> list[LetterTarget]:
    return list(
        db.session.scalars(
            select(LetterTarget)
            .where(LetterTarget.action_id == action_id)
            .order_by(LetterTarget.kind, LetterTarget.position, LetterTarget.name)
        )
    )


def target_of(action_id: int, target_id: int) -> LetterTarget | None:
    target = db.session.get(LetterTarget, target_id)
    return target if target is not None and target.action_id == action_id else None


def letter_of(letter_id: int) -> Letter | None:
    return db.session.get(Letter, letter_id)


def letter_for_signature(signature_id: int) -> Letter | None:
    return db.session.scalar(select(Letter).where(Letter.signature_id == signature_id))


@dataclass(frozen=True)
class TargetCount:
    target: LetterTarget
    delivered: int
    waiting: int  # confirmed, not delivered yet (pending, sending, awaiting the supporter)
    failed: int


def counts_per_target(action_id: int) -> list[TargetCount]:
    """Letters per target (fixed ones and each MP written to), most written-to first."""
    rows = db.session.execute(
        select(LetterDelivery.target_id, LetterDelivery.status, func.count(LetterDelivery.id))
        .join(LetterTarget, LetterTarget.id == LetterDelivery.target_id)
        .where(LetterTarget.action_id == action_id)
        .group_by(LetterDelivery.target_id, LetterDelivery.status)
    ).all()
    tally: dict[int, dict[str, int]] = {}
    for target_id, status, n in rows:
        tally.setdefault(target_id, {})[status] = n
    result = []
    for target in targets_of(action_id):
        by = tally.get(target.id, {})
        if target.kind == TargetKind.REPRESENTATIVE.value and not by and not target.stance:
            continue
        if target.removed_at is not None and not by:
            continue
        result.append(
            TargetCount(
                target,
                delivered=sum(by.get(s, 0) for s in DELIVERED),
                waiting=sum(
                    by.get(s, 0)
                    for s in (
                        DeliveryStatus.PENDING.value,
                        DeliveryStatus.SENDING.value,
                        DeliveryStatus.AWAITING.value,
                    )
                ),
                failed=sum(
                    by.get(s, 0)
                    for s in (DeliveryStatus.FAILED.value, DeliveryStatus.UNKNOWN.value)
                ),
            )
        )
    result.sort(key=lambda c: (-c.delivered, -c.waiting, c.target.name))
    return result


def counts_per_constituency(action_id: int) -> list[tuple[str, str, int]]:
    """(code, name, confirmed letters) per constituency."""
    rows = db.session.execute(
        select(Letter.constituency_code, Letter.constituency_name, func.count(Letter.id))
        .join(Signature, Signature.id == Letter.signature_id)
        .where(
            Letter.action_id == action_id,
            Letter.constituency_code != "",
            Signature.confirmed_at.is_not(None),
            Signature.is_valid,
        )
        .group_by(Letter.constituency_code, Letter.constituency_name)
        .order_by(func.count(Letter.id).desc(), Letter.constituency_name)
    ).all()
    return [(code, name, int(n)) for code, name, n in rows]


def identical_letters(action_id: int) -> int:
    """How many letters share their exact words with another letter (offices notice)."""
    shared = (
        select(Letter.body_hash)
        .where(Letter.action_id == action_id)
        .group_by(Letter.body_hash)
        .having(func.count(Letter.id) > 1)
        .subquery()
    )
    return int(
        db.session.scalar(
            select(func.count(Letter.id)).where(
                Letter.action_id == action_id, Letter.body_hash.in_(select(shared.c.body_hash))
            )
        )
        or 0
    )


def export_rows(action_id: int) -> Iterator[tuple[Letter, Signature, LetterDelivery, LetterTarget]]:
    """One row per letter per target (for the CSV)."""
    yield from db.session.execute(
        select(Letter, Signature, LetterDelivery, LetterTarget)
        .join(Signature, Signature.id == Letter.signature_id)
        .join(LetterDelivery, LetterDelivery.letter_id == Letter.id)
        .join(LetterTarget, LetterTarget.id == LetterDelivery.target_id)
        .where(Letter.action_id == action_id)
        .order_by(Letter.id, LetterTarget.id)
        .execution_options(yield_per=500)
    )  # type: ignore[misc]
