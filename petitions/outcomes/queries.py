"""What only reads: an action's timeline, oldest first."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from petitions.extensions import db
from petitions.outcomes.models import ActionOutcome


def timeline(action_id: int) -> list[ActionOutcome]:
    return timelines([action_id]).get(action_id, [])


def timelines(action_ids: Iterable[int]) -> dict[int, list[ActionOutcome]]:
    ids = list(action_ids)
    if not ids:
        return {}
    found: dict[int, list[ActionOutcome]] = {}
    for entry in db.session.scalars(
        select(ActionOutcome)
        .where(ActionOutcome.action_id.in_(ids))
        .order_by(ActionOutcome.action_id, ActionOutcome.happened_on, ActionOutcome.id)
    ):
        found.setdefault(entry.action_id, []).append(entry)
    return found


def entry_of(action_id: int, entry_id: int) -> ActionOutcome | None:
    entry = db.session.get(ActionOutcome, entry_id)
    return entry if entry is not None and entry.action_id == action_id else None
