"""A send-rate limit shared by every worker process (through Redis), smooth within each.

Each process spaces its messages ``1/rate`` apart; across processes a per-second counter in
Redis stops the total going over ``rate``. Without Redis only the local spacing applies.
A rate of 0 means no limit (benchmarks).
"""

from __future__ import annotations

import logging
import time

from petitions.core.redis import get_redis

log = logging.getLogger(__name__)

KEY = "petitions:mailing-rate:{}"


class Throttle:
    def __init__(self, rate_per_second: float, shared: bool = True) -> None:
        self.rate = max(0.0, rate_per_second)
        self.interval = 1.0 / self.rate if self.rate else 0.0
        self.shared = shared
        self._next = time.monotonic()

    def wait(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        if now < self._next:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + self.interval
        if self.shared:
            self._wait_shared()

    def _wait_shared(self) -> None:
        try:
            client = get_redis()
        except Exception:  # noqa: BLE001 - no app context or no Redis: local spacing only
            return
        if client is None:
            return
        limit = max(1, int(self.rate))
        for _ in range(50):
            second = int(time.time())
            key = KEY.format(second)
            try:
                pipe = client.pipeline()
                pipe.incr(key)
                pipe.expire(key, 3)
                count = int(pipe.execute()[0])
            except Exception as exc:  # noqa: BLE001 - Redis trouble must not stop mail
                log.warning("mailing throttle without Redis (%s)", type(exc).__name__)
                return
            if count <= limit:
                return
            time.sleep(max(0.01, second + 1 - time.time()))
