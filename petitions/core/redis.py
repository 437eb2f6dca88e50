"""One Redis client per app, with short timeouts so a dead Redis never stalls a request."""

from __future__ import annotations

import redis
from flask import current_app


def get_redis() -> redis.Redis | None:
    """The app's Redis client, or None when the service runs without Redis."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    client = current_app.extensions.get("petitions_redis")
    if client is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=1.0, health_check_interval=30
        )
        current_app.extensions["petitions_redis"] = client
    return client
