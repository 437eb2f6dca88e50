from __future__ import annotations

from typing import Any

import pytest

LIMITS = {
    "RATELIMIT_ENABLED": True,
    "ABUSE_LIMITS_ENABLED": True,
    "ABUSE_WINDOW_SECONDS": 3600,
    "ABUSE_IP_ACTION_SOFT": 3,
    "ABUSE_IP_ACTION_HARD": 6,
    "ABUSE_IP_SOFT": 20,
    "ABUSE_IP_HARD": 40,
    "ABUSE_DOMAIN_ACTION_SOFT": 4,
    "ABUSE_DOMAIN_ACTION_HARD": 0,
}


@pytest.fixture
def limits_on(config: Any) -> None:
    config(**LIMITS)
