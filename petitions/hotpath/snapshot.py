"""A short-lived snapshot of an action, so the hot path need not load it through the ORM.

Safe only together with the guard in SQL: the statement that writes a signature repeats the
open/deadline check itself (``signing.services._insert_statement``), so an action closed a
moment ago is never signed, whatever the snapshot still says. What the snapshot decides on its
own — the kind of action and its pledge options — may be ``HOTPATH_SNAPSHOT_SECONDS`` stale.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, exists, select

from petitions.campaigns.models import Action, Campaign, CampaignStatus, is_open
from petitions.extensions import db
from petitions.questions.models import ActionQuestion

_MAX_ENTRIES = 1024  # any path can name a slug; the cache never grows past this

_QUERY = (
    select(
        Action.id,
        Action.kind,
        Action.pledge_options,
        Action.closed_at,
        Campaign.status,
        Action.deadline,
        # An action with questions of its own is the view's: it asks and checks them.
        exists().where(ActionQuestion.action_id == Action.id).label("asks_questions"),
    )
    .join(Campaign, Action.campaign_id == Campaign.id)
    .where(
        Campaign.slug == bindparam("slug"),
        Action.slug == bindparam("action_slug"),
        Campaign.status.in_([CampaignStatus.LIVE.value, CampaignStatus.CLOSED.value]),
    )
)


@dataclass(frozen=True)
class ActionSnapshot:
    """What signing needs of a public action (``signing.services.Signable``)."""

    id: int
    kind: str
    pledge_options: tuple[str, ...]
    closed_at: datetime | None
    campaign_status: str
    deadline: date | None
    asks_questions: bool = False

    def is_open(self, today: date | None = None) -> bool:
        return is_open(self.closed_at, self.campaign_status, self.deadline, today)


class Snapshots:
    """Public actions by (campaign slug, action slug), each kept for ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, ActionSnapshot | None]] = {}
        self._lock = threading.Lock()

    def get(self, slug: str, action_slug: str) -> ActionSnapshot | None:
        """The action (None when there is no such public action), read in the current session."""
        key = (slug, action_slug)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        row = db.session.execute(_QUERY, {"slug": slug, "action_slug": action_slug}).first()
        snapshot = None
        if row is not None:
            snapshot = ActionSnapshot(
                id=row.id,
                kind=row.kind,
                pledge_options=tuple(row.pledge_options or ()),
                closed_at=row.closed_at,
                campaign_status=row.status,
                deadline=row.deadline,
                asks_questions=bool(row.asks_questions),
            )
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now, snapshot)
        return snapshot

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
