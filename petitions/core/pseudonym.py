"""Keyed pseudonyms for values that must never be stored as they are (Redis key names).

Rate-limit counters are keyed per IP address (and per login address); Redis keeps those key
names until the window ends and in its append-only file. A keyed HMAC (``SECRET_KEY``) gives
the same counter for the same value without writing the value itself anywhere: an erased
person's IP or address is in no Redis key.
"""

from __future__ import annotations

import hmac

from flask import current_app, request


def pseudonym(value: str) -> str:
    """32 hex characters, stable per value and secret key, not reversible without the key."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.digest(key, b"key-name:" + value.encode(), "sha256").hex()[:32]  # one C call


def remote_address_key() -> str:
    """Flask-Limiter's key: the client's address (after ``TRUSTED_PROXIES``), pseudonymised."""
    return pseudonym(request.remote_addr or "127.0.0.1")
