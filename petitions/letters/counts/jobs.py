"""Folding letters into the per-recipient tallies, and reconciling those with the source.

This module owns its transactions (each batch commits, ``unit_of_work.commit()``), like the
signatures' fold it copies (``petitions.counting.jobs``): no request ever writes a tally row.

Each :class:`~petitions.letters.models.LetterDelivery` (one letter to one recipient) records
what it is folded into the recipient's :class:`~petitions.letters.models.LetterTargetTally`
as (``counted``: a ``COUNTS_LETTER`` bit while its signature is confirmed and valid, a
``COUNTS_DELIVERED`` bit once delivered). The fold takes two queues, both partial indexes:

* rows flagged ``needs_count`` (new at confirmation; a withdrawal, invalidation or restore of
  the signature flags them again, ``letters.subscribers``);
* rows delivered but not yet counted as delivered (the sender only changes the status).

Each row's new value is claimed with a conditional ``UPDATE`` (still counted as read, still
wanting the value computed), so two folds never count a change twice; the sums go to the tally
rows once per batch. ``reconcile`` flags any row whose ``counted`` is wrong and repairs tally
rows that differ from the sum of their rows. Both hold one PostgreSQL advisory lock.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from petitions.core import task_names, unit_of_work
from petitions.core.sql import dialect_insert
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.letters.models import (
    COUNTS_DELIVERED,
    COUNTS_LETTER,
    DELIVERED,
    DELIVERED_UNCOUNTED,
    Letter,
    LetterDelivery,
    LetterTarget,
    LetterTargetTally,
)
from petitions.signing.models import Counted, Signature

log = logging.getLogger(__name__)

FOLD_TASK = task_names.FOLD_LETTER_COUNTS
RECONCILE_TASK = task_names.RECONCILE_LETTER_COUNTS
BATCH = 500
_LOCK_KEY = 7_413_012  # the letters' fold and reconcile; the signatures' fold has its own


def _take_lock(wait: bool) -> bool:
    if db.session.get_bind().dialect.name != "postgresql":
        return True  # SQLite serialises writers itself
    fn = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    result = db.session.execute(text(f"SELECT {fn}(:key)"), {"key": _LOCK_KEY}).scalar()
    return True if wait else bool(result)


def desired() -> ColumnElement[int]:
    """What a delivery row should be counted as now (one definition, for fold and reconcile)."""
    state = (
        select(Signature.counts_as)
        .join(Letter, Letter.signature_id == Signature.id)
        .where(Letter.id == LetterDelivery.letter_id)
        .scalar_subquery()
    )
    return case((state == int(Counted.CONFIRMED), COUNTS_LETTER), else_=0) + case(
        (LetterDelivery.status.in_(DELIVERED), COUNTS_DELIVERED), else_=0
    )


def _bits(value: int) -> tuple[int, int]:
    return int(bool(value & COUNTS_LETTER)), int(bool(value & COUNTS_DELIVERED))


def _queue(where: Any, limit: int) -> list[Any]:
    return list(
        db.session.execute(
            select(LetterDelivery.id, LetterDelivery.counted, desired().label("want"))
            .where(where)
            .order_by(LetterDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=LetterDelivery)
        )
    )


def fold_batch(limit: int = BATCH) -> int:
    """Fold one batch of each queue; the caller commits. Returns how many rows were taken."""
    flagged = _queue(LetterDelivery.needs_count.is_(True), limit)
    # The partial index's own predicate, as written there (literal, so a prepared plan uses it).
    delivered = _queue(text(DELIVERED_UNCOUNTED), limit)
    rows = {row.id: row for row in flagged + delivered}
    if not rows:
        return 0
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row in rows.values():
        groups[(int(row.counted), int(row.want))].append(row.id)
    deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # target -> [letters, delivered]
    for (before, want), ids in sorted(groups.items()):
        claimed = db.session.execute(
            update(LetterDelivery)
            .where(
                LetterDelivery.id.in_(ids),
                LetterDelivery.counted == before,
                desired() == want,
            )
            .values(counted=want, needs_count=False)
            .returning(LetterDelivery.target_id)
            .execution_options(synchronize_session=False)
        ).all()
        if before == want:
            continue
        (was_letter, was_delivered), (is_letter, is_delivered) = _bits(before), _bits(want)
        for (target_id,) in claimed:
            deltas[target_id][0] += is_letter - was_letter
            deltas[target_id][1] += is_delivered - was_delivered
    _add(deltas)
    return len(rows)


def _add(deltas: dict[int, list[int]]) -> None:
    changed = {t: d for t, d in deltas.items() if d[0] or d[1]}
    if not changed:
        return
    actions = dict(
        db.session.execute(
            select(LetterTarget.id, LetterTarget.action_id).where(LetterTarget.id.in_(changed))
        ).all()
    )
    now = utcnow()
    rows = [
        {
            "target_id": target_id,
            "action_id": actions[target_id],
            "letters": letters,
            "delivered": delivered,
            "updated_at": now,
        }
        for target_id, (letters, delivered) in sorted(changed.items())
        if target_id in actions
    ]
    if not rows:
        return
    table: Any = LetterTargetTally.__table__
    statement = dialect_insert()(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["target_id"],
        set_={
            "letters": table.c.letters + statement.excluded.letters,
            "delivered": table.c.delivered + statement.excluded.delivered,
            "updated_at": statement.excluded.updated_at,
        },
    )
    db.session.execute(statement)


def fold(max_batches: int = 40) -> int:
    """Fold everything queued, batch by batch. Returns how many rows were folded."""
    folded = 0
    for _ in range(max_batches):
        if not _take_lock(wait=False):
            unit_of_work.rollback()
            return folded  # another worker is folding right now
        taken = fold_batch()
        unit_of_work.commit()
        folded += taken
        if taken == 0:
            break
    return folded


@dataclass(frozen=True)
class Repair:
    target_id: int
    stored: tuple[int, int]
    expected: tuple[int, int]


def reconcile() -> list[Repair]:
    """Queue rows counted wrongly and not queued; make each tally the sum of its rows."""
    _take_lock(wait=True)
    lost = db.session.execute(
        update(LetterDelivery)
        .where(LetterDelivery.needs_count.is_(False), LetterDelivery.counted != desired())
        .values(needs_count=True)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if lost:
        log.warning("letters reconcile: %d deliveries were not queued for counting", lost)
    counted = LetterDelivery.counted
    expected = {
        row.target_id: (int(row.letters or 0), int(row.delivered or 0))
        for row in db.session.execute(
            select(
                LetterDelivery.target_id,
                func.sum(case((counted.op("&")(COUNTS_LETTER) != 0, 1), else_=0)).label("letters"),
                func.sum(case((counted >= COUNTS_DELIVERED, 1), else_=0)).label("delivered"),
            ).group_by(LetterDelivery.target_id)
        )
    }
    stored = {
        row.target_id: (row.letters, row.delivered)
        for row in db.session.scalars(select(LetterTargetTally))
    }
    repairs = []
    for target_id in sorted(set(expected) | set(stored)):
        want = expected.get(target_id, (0, 0))
        have = stored.get(target_id, (0, 0))
        if want == have:
            continue
        repairs.append(Repair(target_id, have, want))
        if target_id in stored:
            db.session.execute(
                update(LetterTargetTally)
                .where(LetterTargetTally.target_id == target_id)
                .values(letters=want[0], delivered=want[1], updated_at=utcnow())
            )
        else:
            _add({target_id: list(want)})
    for repair in repairs:
        log.warning(
            "letters reconcile: repaired target %d: stored %s, rows say %s",
            repair.target_id,
            repair.stored,
            repair.expected,
        )
    unit_of_work.commit()
    return repairs
