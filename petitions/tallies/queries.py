from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from petitions.campaigns.models import Action
from petitions.core.i18n import current_language, default_language
from petitions.extensions import db
from petitions.tallies.models import ActionTally, TallyPledge


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


@dataclass(frozen=True)
class PledgeCount:
    option: str  # as stored: the default language's words
    n: int
    shown: str = ""  # the option in the page's language (Action.pledge_option_in), "" = option

    @property
    def words(self) -> str:
        """What the count is followed by: "will boycott" for the option "I will boycott" on a
        page in the default language, else "chose “Option”" in the page's language."""
        option = (self.shown or self.option).strip()
        if (
            current_language() == default_language()
            and option[:2].lower() == "i "
            and len(option) > 2
        ):
            return option[2:]
        return _("chose \u201c%(option)s\u201d", option=option)

    @property
    def phrase(self) -> str:
        """ "412 will boycott"."""
        return f"{self.n:,} {self.words}"


def pledge_counts(actions: list[Action]) -> dict[int, list[PledgeCount]]:
    """Confirmed pledges per option, in the order the action lists its options (0 for an
    option nobody chose yet), then any option no longer offered that people did choose."""
    pledges = [a for a in actions if a.pledge_options]
    if not pledges:
        return {}
    found: dict[int, dict[str, int]] = {a.id: {} for a in pledges}
    for row in db.session.execute(
        select(TallyPledge.action_id, TallyPledge.option, TallyPledge.n).where(
            TallyPledge.action_id.in_(list(found)), TallyPledge.n != 0
        )
    ):
        found[row.action_id][row.option] = int(row.n)
    result: dict[int, list[PledgeCount]] = {}
    for action in pledges:
        counts = found[action.id]
        offered = list(action.pledge_options or [])
        language = current_language()
        rows = [
            PledgeCount(option, counts.get(option, 0), action.pledge_option_in(option, language))
            for option in offered
        ]
        rows += [
            PledgeCount(option, n)
            for option, n in sorted(counts.items(), key=lambda item: -item[1])
            if option not in offered
        ]
        result[action.id] = rows
    return result
