from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from petitions.counting.models import ActionTally
from petitions.extensions import db


def confirmed_counts(action_ids: Iterable[int]) -> dict[int, int]:
    """Confirmed counts per action from the worker-maintained tallies (0 if none yet)."""
    ids = list(action_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ActionTally.action_id, ActionTally.confirmed).where(ActionTally.action_id.in_(ids))
    )
    counts = dict.fromkeys(ids, 0)
    counts.update({row.action_id: row.confirmed for row in rows})
    return counts
