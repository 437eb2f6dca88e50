"""Counting listens to every change of a signature's state and nudges the fold after COMMIT.

The fold reads ``needs_count`` rows, so the nudge only makes it sooner; the periodic fold is
the safety net. One nudge per unit of work, however many signatures changed.
"""

from __future__ import annotations

from typing import Any

from petitions.core import events
from petitions.core.dispatch import nudge
from petitions.core.unit_of_work import after_commit
from petitions.counting.jobs import FOLD_TASK


@events.effects_only
def _nudge_fold(sender: Any, **_: Any) -> None:
    after_commit(nudge, FOLD_TASK, key=FOLD_TASK)


for _signal in (
    events.signature_created,
    events.signature_confirmed,
    events.signatures_withdrawn,
    events.signatures_invalidated,
    events.signatures_restored,
    events.person_erased,
    events.counts_changed,
):
    _signal.connect(_nudge_fold)
