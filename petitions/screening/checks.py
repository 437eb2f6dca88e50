"""The checks every submission passes through before it is stored (called by the intake).

Three outcomes besides "fine", none of which tells an attacker what worked:

* **drop** — a bot filled the honeypot: nothing is stored, the user sees the normal page;
* **suspect** — too many submissions from one IP or email domain in the window, or the form
  was filled faster than a person can: the signature is stored with ``suspect=True``, never
  counted and never emailed; the user sees the normal page;
* **refuse** — a real flood past the hard limit: ``RateLimited`` (HTTP 429).

Counters live in the rate-limit storage Flask-Limiter is configured with
(``RATELIMIT_STORAGE_URI``, Redis in production), one fixed window per key. If that storage
is down the checks fail open: a signature is never lost because Redis is.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner
from limits.storage import Storage, storage_from_string
from werkzeug.exceptions import TooManyRequests

from petitions.core.pseudonym import pseudonym

log = logging.getLogger(__name__)

_STAMP_SALT = "petitions.sign-form-started"


class Verdict(enum.Enum):
    OK = "ok"
    SUSPECT = "suspect"
    DROP = "drop"


class RateLimited(TooManyRequests):
    """Past a hard limit. An HTTPException, so the form and the API both answer 429."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)


@dataclass(frozen=True)
class RequestFacts:
    """What the intake needs to know about the request, gathered by the view.

    ``fill_seconds`` is None when there was no form (the API); ``honeypot`` is whatever the
    hidden trap field held.
    """

    ip: str | None = None
    fill_seconds: float | None = None
    honeypot: str = ""


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    reasons: tuple[str, ...] = ()


# --- request facts ----------------------------------------------------------------------------


def clean_ip(value: str | None) -> str | None:
    """A valid IP address in canonical form, or None (never store whatever a header said)."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt=_STAMP_SALT)


def issue_form_stamp() -> str:
    """A signed timestamp for the sign form's hidden ``started`` field."""
    return _signer().sign(b"f").decode("ascii")


def fill_seconds_from_stamp(stamp: str | None) -> float:
    """How long ago the form was rendered; 0.0 when the stamp is missing or forged."""
    if not stamp or len(stamp) > 100:
        return 0.0
    try:
        _, issued = _signer().unsign(stamp, return_timestamp=True)
    except (BadSignature, ValueError, TypeError):
        return 0.0
    return max(0.0, time.time() - issued.timestamp())


# --- counters ---------------------------------------------------------------------------------


def _storage() -> Storage | None:
    app = current_app
    storage = app.extensions.get("abuse_storage")
    if storage is None:
        uri = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
        options: dict[str, Any] = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        if uri.startswith(("redis://", "rediss://")):
            options.setdefault("socket_connect_timeout", 0.5)
            options.setdefault("socket_timeout", 0.5)
        storage = storage_from_string(uri, **options)
        app.extensions["abuse_storage"] = storage
    return cast(Storage, storage)


def limits_enabled() -> bool:
    config = current_app.config
    return bool(config.get("RATELIMIT_ENABLED", True)) and bool(
        config.get("ABUSE_LIMITS_ENABLED", True)
    )


def _hit_all(keys: list[str], window: int) -> list[int]:
    """Count one submission against each key in the current window, in one round trip.

    Returns zeros if the storage is down (fail open: the signature matters more).
    """
    storage = _storage()
    if storage is None or not keys:
        return [0] * len(keys)
    bucket = int(time.time()) // window
    names = [f"petitions:abuse:{key}:{bucket}" for key in keys]
    try:
        client = getattr(storage, "storage", None)
        if client is not None and hasattr(client, "pipeline"):  # Redis: one pipelined trip
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.incr(storage.prefixed_key(name))  # type: ignore[attr-defined]
                pipe.expire(storage.prefixed_key(name), window + 5)  # type: ignore[attr-defined]
            results = pipe.execute()
            return [int(n) for n in results[0::2]]
        return [int(storage.incr(name, window + 5)) for name in names]
    except Exception as exc:
        log.warning("rate-limit storage unavailable (%s); not limiting", type(exc).__name__)
        return [0] * len(keys)


def _common_domains() -> set[str]:
    raw = current_app.config.get("ABUSE_COMMON_DOMAINS", "")
    return {d.strip().lower() for d in raw.split(",") if d.strip()}


def email_domain(email_normalised: str) -> str:
    return email_normalised.rpartition("@")[2].lower()


def assess(action_id: int, email_normalised: str, facts: RequestFacts) -> Assessment:
    """Decide what to do with one submission. Raises ``RateLimited`` past a hard limit."""
    config = current_app.config
    if facts.honeypot.strip():
        return Assessment(Verdict.DROP, ("honeypot",))
    reasons: list[str] = []
    min_fill = float(config.get("ABUSE_MIN_FILL_SECONDS", 0) or 0)
    if facts.fill_seconds is not None and facts.fill_seconds < min_fill:
        reasons.append("too fast")
    if limits_enabled():
        window = int(config["ABUSE_WINDOW_SECONDS"])
        domain = email_domain(email_normalised)
        checks: list[tuple[str, str, int, int]] = []
        if facts.ip:
            checks.append(
                (
                    "ip-action",
                    f"ip-action:{action_id}:{pseudonym(facts.ip)}",
                    config["ABUSE_IP_ACTION_SOFT"],
                    config["ABUSE_IP_ACTION_HARD"],
                )
            )
            checks.append(
                (
                    "ip",
                    f"ip:{pseudonym(facts.ip)}",
                    config["ABUSE_IP_SOFT"],
                    config["ABUSE_IP_HARD"],
                )
            )
        if domain and domain not in _common_domains():
            checks.append(
                (
                    "domain-action",
                    f"domain-action:{action_id}:{domain}",
                    config["ABUSE_DOMAIN_ACTION_SOFT"],
                    config["ABUSE_DOMAIN_ACTION_HARD"],
                )
            )
        checks = [check for check in checks if check[2] or check[3]]
        counts = _hit_all([key for _, key, _, _ in checks], window)
        for (name, _key, soft, hard), count in zip(checks, counts, strict=True):
            if hard and count > hard:
                retry = window - int(time.time()) % window
                raise RateLimited(retry_after=retry)
            if soft and count > soft:
                reasons.append(name)
    if reasons:
        return Assessment(Verdict.SUSPECT, tuple(reasons))
    return Assessment(Verdict.OK)


def facts_from_form(form: Any, ip: str | None) -> RequestFacts:
    """The request facts of a submitted sign form (its ``started`` and ``website`` fields)."""
    return RequestFacts(
        ip=ip,
        fill_seconds=fill_seconds_from_stamp(form.started.data),
        honeypot=str(form.website.data or ""),
    )
