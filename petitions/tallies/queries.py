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


def paper_counts(action_ids: Iterable[int]) -> dict[int, int]:
    """Of the confirmed counts, how many were collected on paper or off-line (0 if none)."""
    ids = list(action_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ActionTally.action_id, ActionTally.paper).where(
            ActionTally.action_id.in_(ids), ActionTally.paper != 0
        )
    )
    counts = dict.fromkeys(ids, 0)
    counts.update({row.action_id: row.paper for row in rows})
    return counts


@dataclass(frozen=True)
class Progress:
    confirmed: int
    goal: int
    paper: int = 0  # of ``confirmed``, collected on paper or off-line

    @property
    def percent(self) -> int:
        if self.goal <= 0:
            return 100
        return min(100, int(self.confirmed * 100 / self.goal))


def progress_for(actions: list[Action]) -> dict[int, Progress]:
    ids = [a.id for a in actions]
    counts = confirmed_counts(ids)
    paper = paper_counts(ids)
    return {a.id: Progress(counts.get(a.id, 0), a.goal, paper.get(a.id, 0)) for a in actions}
