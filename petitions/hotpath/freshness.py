"""When an organiser changes what a page shows, the hot path's copies of pages are forgotten.

The copies (``pages``, ``form_pages``) are at most ``HOTPATH_PAGE_SECONDS`` old anyway, but an
organiser who closes an action or edits its words and then looks at the public page expects to
see the change at once. So a unit of work that wrote to one of ``PAGE_TABLES``:

* empties this process's copies and action snapshots when it commits, and
* adds one to a counter in Redis, which every server process reads at most every
  ``_CHECK_SECONDS`` before answering from a copy; a process that sees it move empties its own.

So another process shows the change within ``_CHECK_SECONDS`` (a quarter of a second), not the
copy's whole lifetime. Without Redis (the embedded default runs one process) the first is enough.
Signatures, tallies and the outbox are not among the tables: the count on a page may be a few
seconds old, as the pages say.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from itertools import chain
from time import monotonic  # bound here: tests that move time.monotonic move no one else
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from petitions.core.redis import get_redis

log = logging.getLogger(__name__)

# What a campaign page, an action page or its thank-you page is made of, besides counts.
PAGE_TABLES = frozenset(
    {
        "campaigns",
        "actions",
        "campaign_updates",
        "action_consents",
        "consent_versions",
        "action_questions",
        "action_outcomes",
        "branding",
        "donation_asks",
        "letter_details",
        "letter_targets",
        "event_details",
        # An organiser's paper signatures and tallies: the page says "including N on paper"
        # once the worker has folded them.
        "offline_tallies",
        "paper_signatures",
    }
)
GENERATION_KEY = "hotpath:pages:generation"
_CHECK_SECONDS = 0.25
_CHANGED = "hotpath_pages_changed"


@event.listens_for(Session, "after_flush")
def _note_page_change(session: Session, flush_context: Any) -> None:
    # After a flush the session's new/dirty/deleted still name what it wrote.
    for instance in chain(session.new, session.dirty, session.deleted):
        if getattr(instance, "__tablename__", None) in PAGE_TABLES:
            session.info[_CHANGED] = True
            return


@event.listens_for(Session, "after_rollback")
def _forget_note(session: Session) -> None:
    session.info.pop(_CHANGED, None)


@event.listens_for(Session, "after_commit")
def _pages_changed(session: Session) -> None:
    if not session.info.pop(_CHANGED, False) or not has_app_context():
        return
    hot = current_app.extensions.get("hotpath")
    if hot is None:
        return
    hot.forget_pages()
    try:
        client = get_redis()
        if client is not None:
            hot.generation.seen(client.incr(GENERATION_KEY))
    except Exception:  # Redis down: other processes' copies expire with their TTL
        log.warning("could not tell other processes that a page changed", exc_info=True)


class Generation:
    """This process's view of the shared counter: ``moved()`` says, at most every
    ``_CHECK_SECONDS``, whether another process changed a page since we last looked."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client
        self._known: int | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def seen(self, value: int) -> None:
        with self._lock:
            self._known = value  # a Redis that restarted counts from 0 again: follow it

    def moved(self) -> bool:
        now = monotonic()
        if 0 <= now - self._checked < _CHECK_SECONDS:
            return False
        with self._lock:
            if 0 <= now - self._checked < _CHECK_SECONDS:
                return False
            self._checked = now
            try:
                client = self._client()
                value = int(client.get(GENERATION_KEY) or 0) if client is not None else 0
            except Exception:  # Redis down: rely on the copies' TTL
                return False
            moved = self._known is not None and value != self._known
            self._known = value
            return moved
