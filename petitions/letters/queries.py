"""What only reads: letter details, targets with their counts, the CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from petitions.extensions import db
from petitions.geo.models import Constituency
from petitions.letters.models import (
    DeliveryStatus,
    Letter,
    LetterDelivery,
    LetterDetails,
    LetterTarget,
    LetterTargetTally,
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


def deliveries_of(letter_id: int) -> list[LetterDelivery]:
    return list(
        db.session.scalars(select(LetterDelivery).where(LetterDelivery.letter_id == letter_id))
    )


@dataclass(frozen=True)
class TargetCount:
    target: LetterTarget
    letters: int  # confirmed letters written to them (the worker's tally)
    delivered: int  # of those, delivered (the worker's tally)
    waiting: int  # on the way now: pending, sending, awaiting the supporter (live)
    failed: int  # failed or of unknown fate (live)


def _tallies(action_id: int) -> dict[int, LetterTargetTally]:
    return {
        t.target_id: t
        for t in db.session.scalars(
            select(LetterTargetTally).where(LetterTargetTally.action_id == action_id)
        )
    }


def counts_per_target(action_id: int, *, live: bool = True) -> list[TargetCount]:
    """Letters per target (fixed ones and each MP written to), most written-to first.

    ``letters`` and ``delivered`` come from the tallies the count worker keeps; ``live`` adds
    what is on the way or failed now, from the delivery rows (the organiser's page only)."""
    tallies = _tallies(action_id)
    tally: dict[int, dict[str, int]] = {}
    if live:
        rows = db.session.execute(
            select(LetterDelivery.target_id, LetterDelivery.status, func.count(LetterDelivery.id))
            .join(LetterTarget, LetterTarget.id == LetterDelivery.target_id)
            .where(
                LetterTarget.action_id == action_id,
                LetterDelivery.status.in_([*ON_THE_WAY, *NOT_DELIVERED]),
            )
            .group_by(LetterDelivery.target_id, LetterDelivery.status)
        ).all()
        for target_id, status, n in rows:
            tally.setdefault(target_id, {})[status] = n
    result = []
    for target in targets_of(action_id):
        by = tally.get(target.id, {})
        counted = tallies.get(target.id)
        letters = counted.letters if counted else 0
        delivered = counted.delivered if counted else 0
        anything = bool(by or letters or delivered)
        if target.kind == TargetKind.REPRESENTATIVE.value and not anything and not target.stance:
            continue
        if target.removed_at is not None and not anything:
            continue
        result.append(
            TargetCount(
                target,
                letters=letters,
                delivered=delivered,
                waiting=sum(by.get(s, 0) for s in ON_THE_WAY),
                failed=sum(by.get(s, 0) for s in NOT_DELIVERED),
            )
        )
    result.sort(key=lambda c: (-c.letters, -c.delivered, -c.waiting, c.target.name))
    return result


ON_THE_WAY = (
    DeliveryStatus.PENDING.value,
    DeliveryStatus.DIGEST.value,
    DeliveryStatus.SENDING.value,
    DeliveryStatus.AWAITING.value,
)
NOT_DELIVERED = (DeliveryStatus.FAILED.value, DeliveryStatus.UNKNOWN.value)


def counts_per_constituency(action_id: int) -> list[tuple[str, str, int, int]]:
    """(code, name, letters, delivered) per constituency: the tallies of its MP's target row."""
    rows = db.session.execute(
        select(
            LetterTarget.constituency_code,
            func.coalesce(Constituency.name, LetterTarget.title),
            LetterTargetTally.letters,
            LetterTargetTally.delivered,
        )
        .join(LetterTargetTally, LetterTargetTally.target_id == LetterTarget.id)
        .outerjoin(Constituency, Constituency.code == LetterTarget.constituency_code)
        .where(
            LetterTarget.action_id == action_id,
            LetterTarget.constituency_code.is_not(None),
            (LetterTargetTally.letters > 0) | (LetterTargetTally.delivered > 0),
        )
        .order_by(LetterTargetTally.letters.desc(), LetterTarget.title)
    ).all()
    return [(code or "", name or "", int(n), int(d)) for code, name, n, d in rows]


def waiting_for_digest(action_id: int) -> int:
    """Letters waiting for their recipient's daily digest."""
    return int(
        db.session.scalar(
            select(func.count(LetterDelivery.id))
            .join(LetterTarget, LetterTarget.id == LetterDelivery.target_id)
            .where(
                LetterTarget.action_id == action_id,
                LetterDelivery.status == DeliveryStatus.DIGEST.value,
            )
        )
        or 0
    )


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
