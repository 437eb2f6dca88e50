from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.tallies.models import ActionTally


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


@dataclass(frozen=True)
class Progress:
    confirmed: int
    goal: int

    @property
    def percent(self) -> int:
        if self.goal <= 0:
            return 100
        return min(100, int(self.confirmed * 100 / self.goal))


def progress_for(actions: list[Action]) -> dict[int, Progress]:
    counts = confirmed_counts(a.id for a in actions)
    return {a.id: Progress(counts.get(a.id, 0), a.goal) for a in actions}
