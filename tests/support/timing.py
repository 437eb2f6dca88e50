"""How long tests wait for something to happen: conditions, never fixed sleeps (issue 11, #13).

A test waits for a condition and goes on the moment it holds; its timeout only says when to give
up. Timeouts are written for a quiet machine and multiplied by ``TEST_PATIENCE`` (default 3),
because the suite also runs on busy machines shared with other work, where a worker takes ten
times longer to start and a poll interval stretches: a generous timeout costs nothing when the
condition holds, and a tight one turns a slow machine into a failed run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

PATIENCE = max(1.0, float(os.environ.get("TEST_PATIENCE", "3")))


def patient(timeout: float) -> float:
    """``timeout`` seconds on a quiet machine, stretched for a busy one."""
    return timeout * PATIENCE


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy (and return that)."""
    limit = patient(timeout)
    deadline = time.monotonic() + limit
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f}s waiting for {predicate}")
        time.sleep(interval)
