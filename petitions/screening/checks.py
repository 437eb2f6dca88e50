"""The checks every submission passes through before it is stored (called by the intake).

Four outcomes besides "fine", none of which tells an attacker what worked:

* **drop** — a bot filled the honeypot: nothing is stored, the user sees the normal page;
* **review** — a signal a real person may still be behind: the form was filled faster than
  ``ABUSE_MIN_FILL_SECONDS`` (browsers autofill in well under 3 s), or its stamp is older than
  ``ABUSE_STAMP_MAX_AGE_SECONDS``, missing, forged or from another session. The signature is
  stored, emailed and counted like any other (the mailbox proves a person); the reason is kept
  for organisers (``Signature.review_reason``, petitions.abuse.review);
* **suspect** (held for review) — volume: too many submissions from one IP or email domain in
  the window, or one form stamp replayed for another address. Stored with ``suspect=True``,
  with the reason; not counted and not emailed until an organiser approves it;
* **refuse** — a real flood past the hard limit: ``RateLimited`` (HTTP 429).

The form stamp (the sign form's hidden ``started`` field) is a signed, timestamped nonce bound
to the browser session (a digest of the session's CSRF secret; forms without a session, such
as embeds, are bound to none), and single-use per address: the first address that uses a
stamp claims it in Redis for the stamp's lifetime; the same address may send it again (a
double click, a corrected typo elsewhere), another address may not.

Counters live in the rate-limit storage Flask-Limiter is configured with
(``RATELIMIT_STORAGE_URI``, Redis in production), one fixed window per key. If that storage
is down the checks fail open: a signature is never lost because Redis is.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from flask import current_app, has_request_context, session
from itsdangerous import BadSignature
from limits.storage import Storage, storage_from_string
from werkzeug.exceptions import TooManyRequests

from petitions.core.pseudonym import pseudonym
from petitions.core.redis import run_script
from petitions.core.signers import KeptKeySigner, kept_signer

log = logging.getLogger(__name__)

_STAMP_SALT = "petitions.sign-form-started.v2"
_CSRF_SESSION_KEY = "csrf_token"  # Flask-WTF's default WTF_CSRF_FIELD_NAME, its session key


class Verdict(enum.Enum):
    OK = "ok"
    REVIEW = "review"  # stored, emailed and counted; the reason kept for organisers
    SUSPECT = "suspect"  # held for review: not counted, not emailed until approved
    DROP = "drop"


class RateLimited(TooManyRequests):
    """Past a hard limit. An HTTPException, so the form and the API both answer 429."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)


@dataclass(frozen=True)
class RequestFacts:
    """What the intake needs to know about the request, gathered by the view.

    ``fill_seconds`` is None when there was no form (the API); ``honeypot`` is whatever the
    hidden trap field held; ``stamp_nonce`` and ``stamp_problem`` come from the form stamp
    (``read_form_stamp``).
    """

    ip: str | None = None
    fill_seconds: float | None = None
    honeypot: str = ""
    stamp_nonce: str = ""
    stamp_problem: str = ""


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


def _signer() -> KeptKeySigner:
    return kept_signer(current_app.config["SECRET_KEY"], salt=_STAMP_SALT)


def _session_binding() -> str:
    """A digest of this browser session's CSRF secret, or "" when there is no session."""
    if not has_request_context():
        return ""
    return session_binding(session.get(_CSRF_SESSION_KEY))


def session_binding(csrf_secret: str | None) -> str:
    """The stamp's binding for a session whose CSRF secret is ``csrf_secret`` ("" for none).

    The hot path (``petitions.hotpath``) reads the session cookie itself and calls this."""
    if not csrf_secret:
        return ""
    return hashlib.sha256(f"stamp:{csrf_secret}".encode()).hexdigest()[:16]


def issue_form_stamp() -> str:
    """A signed, timestamped nonce for the sign form's hidden ``started`` field."""
    return form_stamp(current_app.config["SECRET_KEY"], _session_binding())


def form_stamp(secret_key: str, binding: str) -> str:
    """The same for a session bound as ``binding`` (``session_binding``), without a request:
    the hot path's copy of the sign form (``petitions.hotpath.form_pages``) stamps each
    visitor's page with this."""
    payload = f"{secrets.token_urlsafe(9)}.{binding}"
    return kept_signer(secret_key, salt=_STAMP_SALT).sign(payload.encode("ascii")).decode("ascii")


@dataclass(frozen=True)
class Stamp:
    fill_seconds: float
    nonce: str = ""
    problem: str = ""  # "" when the stamp is good


def read_form_stamp(stamp: str | None, binding: str | None = None) -> Stamp:
    """How long ago the form was shown, and what, if anything, is wrong with its stamp.

    ``binding`` is the session's (``session_binding``); by default, the current request's."""
    if not stamp or len(stamp) > 120:
        return Stamp(0.0, problem="form stamp missing or forged")
    try:
        payload, issued = _signer().unsign(stamp, return_timestamp=True)
        nonce, _, binding_seen = payload.decode("ascii").partition(".")
    except (BadSignature, ValueError, TypeError, UnicodeDecodeError):
        return Stamp(0.0, problem="form stamp missing or forged")
    age = max(0.0, time.time() - issued.timestamp())
    if age > float(current_app.config.get("ABUSE_STAMP_MAX_AGE_SECONDS", 86400)):
        return Stamp(age, nonce, "form stamp expired")
    if binding_seen != (_session_binding() if binding is None else binding):
        return Stamp(age, nonce, "form stamp from another session")
    return Stamp(age, nonce)


def fill_seconds_from_stamp(stamp: str | None) -> float:
    """How long ago the form was rendered; 0.0 when the stamp is missing or forged."""
    return read_form_stamp(stamp).fill_seconds


def _claim_stamp(nonce: str, email_normalised: str) -> bool:
    """Claim a stamp for this address; False if another address claimed it first.

    Fails open (True) when the storage is down or is not Redis.
    """
    if not nonce:
        return True
    storage = _storage()
    client = getattr(storage, "storage", None)
    if client is None or not hasattr(client, "set"):
        return True
    ttl = int(float(current_app.config.get("ABUSE_STAMP_MAX_AGE_SECONDS", 86400))) + 60
    key = storage.prefixed_key(f"petitions:abuse:stamp:{nonce}")  # type: ignore[union-attr]
    owner = hashlib.sha256(email_normalised.encode()).hexdigest()[:16]
    try:
        if client.set(key, owner, nx=True, ex=ttl):
            return True
        current = client.get(key)
    except Exception as exc:
        log.warning("rate-limit storage unavailable (%s); stamp not checked", type(exc).__name__)
        return True
    if isinstance(current, bytes):
        current = current.decode("ascii", "replace")
    return current is None or current == owner


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


# The stamp claim (``_claim_stamp``) and the window counters (``_hit_all``) in one round trip:
# KEYS[1] the stamp (ARGV[1] its owner, "" for none; ARGV[2] its lifetime), KEYS[2..] the
# counters (ARGV[3] their lifetime). Returns {1 if claimed (or no stamp) else 0, counts...}.
_SCREEN_SCRIPT = """
local out = {1}
if ARGV[1] ~= '' then
  if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
    local current = redis.call('GET', KEYS[1])
    if current and current ~= ARGV[1] then out[1] = 0 end
  end
end
for i = 2, #KEYS do
  out[i] = redis.call('INCR', KEYS[i])
  if out[i] == 1 then  -- a new window's counter: it outlives its window, then goes
    redis.call('EXPIRE', KEYS[i], ARGV[3])
  end
end
return out
"""


def _screen(
    nonce: str | None, email_normalised: str, keys: list[str], window: int
) -> tuple[bool, list[int]]:
    """Claim the stamp (when there is one) and count the submission against ``keys``.

    The same effects as ``_claim_stamp`` then ``_hit_all``, in one Redis script call; the same
    failing open when the storage is down (claimed, zero counts) or is not Redis.
    """
    nonce = nonce or None  # a stamp without a nonce (missing or forged) claims nothing
    if nonce is None and not keys:
        return True, []
    storage = _storage()
    client = getattr(storage, "storage", None)
    if storage is None or client is None or not hasattr(client, "register_script"):
        claimed = _claim_stamp(nonce, email_normalised) if nonce is not None else True
        return claimed, _hit_all(keys, window)
    config = current_app.config
    ttl = int(float(config.get("ABUSE_STAMP_MAX_AGE_SECONDS", 86400))) + 60
    owner = hashlib.sha256(email_normalised.encode()).hexdigest()[:16] if nonce else ""
    bucket = int(time.time()) // window
    names = [
        storage.prefixed_key(f"petitions:abuse:stamp:{nonce or ''}"),  # type: ignore[attr-defined]
        *(
            storage.prefixed_key(f"petitions:abuse:{key}:{bucket}")  # type: ignore[attr-defined]
            for key in keys
        ),
    ]
    try:
        registered = current_app.extensions.get("abuse_screen_script")
        if registered is None or registered[0] is not client:  # one per storage client
            registered = (client, client.register_script(_SCREEN_SCRIPT))
            current_app.extensions["abuse_screen_script"] = registered
        script = registered[1]
        result = run_script(script, names, [owner, ttl, window + 5])
    except Exception as exc:
        log.warning("rate-limit storage unavailable (%s); not limiting", type(exc).__name__)
        return True, [0] * len(keys)
    return bool(int(result[0])), [int(n) for n in result[1:]]


def _common_domains() -> set[str]:
    return set(_parsed_domains(current_app.config.get("ABUSE_COMMON_DOMAINS", "")))


@lru_cache(maxsize=8)
def _parsed_domains(raw: str) -> frozenset[str]:
    # Read on every submission: the setting's string parsed once per value.
    return frozenset(d.strip().lower() for d in raw.split(",") if d.strip())


def email_domain(email_normalised: str) -> str:
    return email_normalised.rpartition("@")[2].lower()


def assess(action_id: int, email_normalised: str, facts: RequestFacts) -> Assessment:
    """Decide what to do with one submission. Raises ``RateLimited`` past a hard limit."""
    config = current_app.config
    if facts.honeypot.strip():
        return Assessment(Verdict.DROP, ("honeypot",))
    reasons: list[str] = []  # hold for review
    signals: list[str] = []  # keep for review, send as usual
    min_fill = float(config.get("ABUSE_MIN_FILL_SECONDS", 0) or 0)
    claim: str | None = None  # the form stamp to claim for this address
    if facts.fill_seconds is not None:
        if facts.fill_seconds < min_fill:
            signals.append(f"filled in {facts.fill_seconds:.1f} s")
        if facts.stamp_problem:
            signals.append(facts.stamp_problem)
        claim = facts.stamp_nonce
    checks: list[tuple[str, str, int, int]] = []
    window = int(config["ABUSE_WINDOW_SECONDS"])
    if limits_enabled():
        domain = email_domain(email_normalised)
        if facts.ip:
            ip_key = pseudonym(facts.ip)
            checks.append(
                (
                    "ip-action",
                    f"ip-action:{action_id}:{ip_key}",
                    config["ABUSE_IP_ACTION_SOFT"],
                    config["ABUSE_IP_ACTION_HARD"],
                )
            )
            checks.append(
                (
                    "ip",
                    f"ip:{ip_key}",
                    config["ABUSE_IP_SOFT"],
                    config["ABUSE_IP_HARD"],
                )
            )
        if domain and domain not in _parsed_domains(config.get("ABUSE_COMMON_DOMAINS", "")):
            checks.append(
                (
                    "domain-action",
                    f"domain-action:{action_id}:{domain}",
                    config["ABUSE_DOMAIN_ACTION_SOFT"],
                    config["ABUSE_DOMAIN_ACTION_HARD"],
                )
            )
        checks = [check for check in checks if check[2] or check[3]]
    claimed, counts = _screen(claim, email_normalised, [key for _, key, _, _ in checks], window)
    if not claimed:
        reasons.append("form stamp reused for another address")
    for (name, _key, soft, hard), count in zip(checks, counts, strict=True):
        if hard and count > hard:
            retry = window - int(time.time()) % window
            raise RateLimited(retry_after=retry)
        if soft and count > soft:
            reasons.append(_VOLUME_REASONS[name])
    if reasons:
        return Assessment(Verdict.SUSPECT, tuple(reasons + signals))
    if signals:
        return Assessment(Verdict.REVIEW, tuple(signals))
    return Assessment(Verdict.OK)


_VOLUME_REASONS = {
    "ip-action": "many signatures from this IP address on this action",
    "ip": "many signatures from this IP address",
    "domain-action": "many signatures from this email domain on this action",
}


def facts_from_form(form: Any, ip: str | None) -> RequestFacts:
    """The request facts of a submitted sign form (its ``started`` and ``website`` fields)."""
    return facts_from_fields(form.started.data, form.website.data, ip)


def facts_from_fields(
    started: str | None, website: str | None, ip: str | None, binding: str | None = None
) -> RequestFacts:
    """The same from the two fields' values (the hot path has no form object)."""
    stamp = read_form_stamp(started, binding)
    return RequestFacts(
        ip=ip,
        fill_seconds=stamp.fill_seconds,
        honeypot=str(website or ""),
        stamp_nonce=stamp.nonce,
        stamp_problem=stamp.problem,
    )
