"""A lock so two runs of one periodic job never overlap (across every worker process)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from petitions.core.redis import get_redis

log = logging.getLogger(__name__)


@contextlib.contextmanager
def periodic_lock(name: str, timeout_seconds: int) -> Iterator[bool]:
    """Yields True if this run holds the lock (or there is no Redis to lock with)."""
    client = get_redis()
    if client is None:
        yield True
        return
    lock = client.lock(f"petitions:lock:{name}", timeout=timeout_seconds, blocking=False)
    try:
        got = bool(lock.acquire(blocking=False))
    except Exception as exc:  # Redis down: run anyway, the jobs are idempotent
        log.warning("lock %s unavailable (%s); running unlocked", name, type(exc).__name__)
        yield True
        return
    try:
        yield got
    finally:
        if got:
            with contextlib.suppress(Exception):
                lock.release()
