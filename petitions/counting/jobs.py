"""Folding signature state changes into the tallies, and reconciling tallies with the source.

Every change to a signature that can move a count (created, confirmed, invalidated,
withdrawn, marked suspect) sets ``needs_count``. ``fold_counts`` takes those rows in batches,
works out each one's change from what it was last counted as (``counted``) to what it should
be, applies the sums to the tally rows once per batch, and clears the flag — all in one
transaction. No request ever touches a tally row, so there is no hot row under a surge.

Paper signatures and offline tallies (``petitions.paper``) carry the same ``counted`` /
``needs_count`` pair; ``fold_paper`` adds their change to ``confirmed`` and to ``paper``.

Pledges are also counted per chosen option (``tally_pledge``), like the other breakdowns.

``reconcile_counts`` recomputes everything from the signature table, repairs differences
and logs them. Both run under one PostgreSQL advisory lock so they never interleave.

This module owns its transactions: each batch commits (``unit_of_work.commit()``), so a fold
interrupted half-way keeps what it folded and the next run takes the rest.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, delete, func, select, text, update

from petitions.core import task_names, unit_of_work
from petitions.core.sql import dialect_insert
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.paper.models import OfflineTally, PaperSignature
from petitions.signing.models import Counted, Signature
from petitions.tallies.models import (
    ActionTally,
    TallyArea,
    TallyDaily,
    TallyHourly,
    TallyPledge,
    TallyReferrer,
)

log = logging.getLogger(__name__)

FOLD_TASK = task_names.FOLD_COUNTS
_LOCK_KEY = 7_413_001  # advisory lock shared by folding and reconciling


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _take_lock(wait: bool) -> bool:
    if _dialect() != "postgresql":
        return True  # SQLite serialises writers itself
    fn = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    result = db.session.execute(text(f"SELECT {fn}(:key)"), {"key": _LOCK_KEY}).scalar()
    return True if wait else bool(result)


def _upsert_add(table: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n, in key order (no deadlocks)."""
    if not rows:
        return
    rows.sort(key=lambda row: tuple(str(row[k]) for k in keys))
    insert = dialect_insert()
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={"n": table.c.n + statement.excluded.n}
    )
    db.session.execute(statement)


def _hour_of(moment: datetime) -> datetime:
    moment = as_utc(moment) or moment
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _day_of(moment: datetime) -> date:
    moment = as_utc(moment) or moment
    return moment.astimezone(UTC).date()


@dataclass
class FoldReport:
    signatures: int = 0
    actions: set[int] = field(default_factory=set)


def fold_batch(limit: int) -> FoldReport:
    """Fold one batch of flagged signatures; the caller commits."""
    report = FoldReport()
    rows = db.session.execute(
        select(
            Signature.id,
            Signature.action_id,
            Signature.counted,
            Signature.confirmed_at,
            Signature.counts_as.label("counts_as"),
            Signature.country,
            Signature.source,
            Signature.postcode_area,
            Signature.referrer,
            Signature.pledge_option,
        )
        .where(Signature.needs_count.is_(True))
        .order_by(Signature.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return report

    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # action -> [pending, confirmed]
    daily: dict[tuple[Any, ...], int] = defaultdict(int)
    hourly: dict[tuple[Any, ...], int] = defaultdict(int)
    area: dict[tuple[Any, ...], int] = defaultdict(int)
    referrer: dict[tuple[Any, ...], int] = defaultdict(int)
    pledge: dict[tuple[Any, ...], int] = defaultdict(int)
    # Claim each row's transition with a conditional UPDATE: it only takes effect if the row is
    # still flagged, still counted as we read it and still wants the state we computed. On
    # PostgreSQL the rows are locked already; on SQLite (no row locks, and reads outside the
    # write transaction) this is what stops two folds from counting one change twice.
    transitions: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in rows:
        transitions[(int(row.counted), int(row.counts_as))].append(row)

    for (before, desired), group in transitions.items():
        claimed = set(
            db.session.scalars(
                update(Signature)
                .where(
                    Signature.id.in_([row.id for row in group]),
                    Signature.needs_count.is_(True),
                    Signature.counted == before,
                    _desired_expr() == desired,
                )
                .values(counted=desired, needs_count=False)
                .returning(Signature.id)
                .execution_options(synchronize_session=False)
            )
        )
        if before == desired:
            continue
        for row in group:
            if row.id not in claimed:
                continue
            tally = totals[row.action_id]
            tally[0] += (desired == Counted.PENDING) - (before == Counted.PENDING)
            confirmed_delta = (desired == Counted.CONFIRMED) - (before == Counted.CONFIRMED)
            tally[1] += confirmed_delta
            if confirmed_delta and row.confirmed_at is not None:
                day = _day_of(row.confirmed_at)
                daily[(row.action_id, day, row.country, row.source)] += confirmed_delta
                hourly[(row.action_id, _hour_of(row.confirmed_at))] += confirmed_delta
                area[(row.action_id, row.country, row.postcode_area)] += confirmed_delta
                referrer[(row.action_id, row.referrer)] += confirmed_delta
            if confirmed_delta and row.pledge_option is not None:
                pledge[(row.action_id, row.pledge_option)] += confirmed_delta

    now = utcnow()
    tally_rows = [
        {"action_id": action_id, "pending": p, "confirmed": c, "updated_at": now}
        for action_id, (p, c) in sorted(totals.items())
    ]
    if tally_rows:
        table: Any = ActionTally.__table__
        insert = dialect_insert()
        statement = insert(table).values(tally_rows)
        statement = statement.on_conflict_do_update(
            index_elements=["action_id"],
            set_={
                "pending": table.c.pending + statement.excluded.pending,
                "confirmed": table.c.confirmed + statement.excluded.confirmed,
                "updated_at": statement.excluded.updated_at,
            },
        )
        db.session.execute(statement)

    def as_rows(data: dict[tuple[Any, ...], int], keys: list[str]) -> list[dict[str, Any]]:
        return [dict(zip(keys, key, strict=True), n=n) for key, n in data.items() if n]

    _upsert_add(
        TallyDaily.__table__,
        ["action_id", "day", "country", "source"],
        as_rows(daily, ["action_id", "day", "country", "source"]),
    )
    _upsert_add(
        TallyHourly.__table__, ["action_id", "hour"], as_rows(hourly, ["action_id", "hour"])
    )
    _upsert_add(
        TallyArea.__table__,
        ["action_id", "country", "postcode_area"],
        as_rows(area, ["action_id", "country", "postcode_area"]),
    )
    _upsert_add(
        TallyReferrer.__table__,
        ["action_id", "referrer"],
        as_rows(referrer, ["action_id", "referrer"]),
    )
    _upsert_add(
        TallyPledge.__table__, ["action_id", "option"], as_rows(pledge, ["action_id", "option"])
    )
    report.signatures = len(rows)
    report.actions = set(totals)
    return report


def _add_to_tallies(deltas: dict[int, int]) -> None:
    """Add paper deltas to ``confirmed`` and ``paper`` of each action's tally row."""
    rows = [
        {"action_id": a, "pending": 0, "confirmed": n, "paper": n, "updated_at": utcnow()}
        for a, n in sorted(deltas.items())
        if n
    ]
    if not rows:
        return
    table: Any = ActionTally.__table__
    insert = dialect_insert()
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["action_id"],
        set_={
            "confirmed": table.c.confirmed + statement.excluded.confirmed,
            "paper": table.c.paper + statement.excluded.paper,
            "updated_at": statement.excluded.updated_at,
        },
    )
    db.session.execute(statement)


def fold_paper(limit: int) -> int:
    """Fold flagged offline tallies and paper signatures; the caller commits."""
    deltas: dict[int, int] = defaultdict(int)
    folded = 0
    for model in (OfflineTally, PaperSignature):
        rows = db.session.execute(
            select(model.id, model.action_id, model.counted, model.counts_as.label("counts_as"))
            .where(model.needs_count.is_(True))
            .order_by(model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            # Conditional, like the signatures' fold: a concurrent fold can't count it twice.
            claimed = db.session.execute(
                update(model)
                .where(
                    model.id == row.id,
                    model.needs_count.is_(True),
                    model.counted == row.counted,
                )
                .values(counted=row.counts_as, needs_count=False)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if claimed:
                deltas[row.action_id] += int(row.counts_as) - int(row.counted)
                folded += 1
    _add_to_tallies(deltas)
    return folded


def fold_counts(max_batches: int = 40) -> int:
    """Fold every flagged signature, batch by batch. Returns how many were folded."""
    limit = current_app.config["COUNT_BATCH_SIZE"]
    folded = 0
    for _ in range(max_batches):
        if not _take_lock(wait=False):
            unit_of_work.rollback()
            return folded  # another worker is folding right now
        report = fold_batch(limit)
        unit_of_work.commit()
        folded += report.signatures
        if report.signatures < limit:
            break
    if _take_lock(wait=False):
        folded += fold_paper(limit)
        unit_of_work.commit()
    else:
        unit_of_work.rollback()
    return folded


# --- reconciliation --------------------------------------------------------------------------


def _desired_expr() -> Any:
    return Signature.counts_as


@dataclass
class Repair:
    table: str
    key: tuple[Any, ...]
    stored: int
    expected: int


def _bucket_exprs() -> tuple[Any, Any]:
    if _dialect() == "postgresql":
        utc = func.timezone("UTC", Signature.confirmed_at)
        return func.date(utc), func.date_trunc("hour", utc)
    return func.date(Signature.confirmed_at), func.strftime(
        "%Y-%m-%d %H:00:00", Signature.confirmed_at
    )


def _normalise_key(value: Any) -> Any:
    if isinstance(value, datetime):
        return _hour_of(value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    if isinstance(value, str) and len(value) == 19 and value[4] == "-":
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def _reconcile_table(
    model: Any, keys: list[str], expected_query: Any, repairs: list[Repair]
) -> None:
    table = model.__table__
    expected = {
        tuple(_normalise_key(v) for v in row[:-1]): int(row[-1])
        for row in db.session.execute(expected_query)
    }
    stored = {
        tuple(_normalise_key(getattr(row, k)) for k in keys): int(row.n)
        for row in db.session.execute(select(table))
    }
    for key in set(expected) | set(stored):
        want, have = expected.get(key, 0), stored.get(key, 0)
        if want == have:
            continue
        repairs.append(Repair(table.name, key, have, want))
        match = and_(*(table.c[k] == v for k, v in zip(keys, key, strict=True)))
        if key in stored:
            db.session.execute(delete(table).where(match))
        if want:
            db.session.execute(table.insert().values(dict(zip(keys, key, strict=True), n=want)))


def reconcile_counts() -> list[Repair]:
    """Recompute every tally from the signatures, repair and log what differed."""
    _take_lock(wait=True)
    repairs: list[Repair] = []
    # 1. A signature whose counted state is wrong but not flagged: flag it for folding.
    lost = db.session.execute(
        update(Signature)
        .where(Signature.needs_count.is_(False), Signature.counted != _desired_expr())
        .values(needs_count=True)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if lost:
        log.warning("reconcile: %d signatures were not queued for counting; queued them", lost)
    for model in (OfflineTally, PaperSignature):
        lost_paper = db.session.execute(
            update(model)
            .where(model.needs_count.is_(False), model.counted != model.counts_as)
            .values(needs_count=True)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if lost_paper:
            log.warning(
                "reconcile: %d %s rows were not queued; queued them",
                lost_paper,
                model.__tablename__,
            )

    # 2. Totals must equal what the folded signatures say.
    counted = Signature.counted
    expected = {
        row.action_id: (int(row.pending or 0), int(row.confirmed or 0))
        for row in db.session.execute(
            select(
                Signature.action_id,
                func.sum(case((counted == int(Counted.PENDING), 1), else_=0)).label("pending"),
                func.sum(case((counted == int(Counted.CONFIRMED), 1), else_=0)).label("confirmed"),
            ).group_by(Signature.action_id)
        )
    }
    paper: dict[int, int] = defaultdict(int)
    for model in (OfflineTally, PaperSignature):
        for row in db.session.execute(
            select(model.action_id, func.sum(model.counted)).group_by(model.action_id)
        ):
            paper[row[0]] += int(row[1] or 0)
    totals: dict[int, tuple[int, int, int]] = {}
    for action_id in set(expected) | set(paper):
        pending, confirmed = expected.get(action_id, (0, 0))
        on_paper = paper.get(action_id, 0)
        totals[action_id] = (pending, confirmed + on_paper, on_paper)
    stored = {
        row.action_id: (row.pending, row.confirmed, row.paper)
        for row in db.session.scalars(select(ActionTally))
    }
    now = utcnow()
    for action_id in set(totals) | set(stored):
        want = totals.get(action_id, (0, 0, 0))
        have = stored.get(action_id, (0, 0, 0))
        if want == have:
            continue
        repairs.append(Repair("action_tallies", (action_id,), have[1], want[1]))
        values = {"pending": want[0], "confirmed": want[1], "paper": want[2], "updated_at": now}
        if action_id in stored:
            db.session.execute(
                update(ActionTally).where(ActionTally.action_id == action_id).values(**values)
            )
        else:
            db.session.add(ActionTally(action_id=action_id, **values))

    # 3. Breakdown buckets.
    day, hour = _bucket_exprs()
    confirmed_only = Signature.counted == int(Counted.CONFIRMED)

    def grouped(*columns: Any) -> Any:
        return select(*columns, func.count()).where(confirmed_only).group_by(*columns)

    _reconcile_table(
        TallyDaily,
        ["action_id", "day", "country", "source"],
        grouped(Signature.action_id, day, Signature.country, Signature.source),
        repairs,
    )
    _reconcile_table(
        TallyHourly, ["action_id", "hour"], grouped(Signature.action_id, hour), repairs
    )
    _reconcile_table(
        TallyArea,
        ["action_id", "country", "postcode_area"],
        grouped(Signature.action_id, Signature.country, Signature.postcode_area),
        repairs,
    )
    _reconcile_table(
        TallyReferrer,
        ["action_id", "referrer"],
        grouped(Signature.action_id, Signature.referrer),
        repairs,
    )
    _reconcile_table(
        TallyPledge,
        ["action_id", "option"],
        grouped(Signature.action_id, Signature.pledge_option).where(
            Signature.pledge_option.is_not(None)
        ),
        repairs,
    )
    for repair in repairs:
        log.warning(
            "reconcile: repaired %s %s: stored %d, signatures say %d",
            repair.table,
            repair.key,
            repair.stored,
            repair.expected,
        )
    unit_of_work.commit()
    return repairs
