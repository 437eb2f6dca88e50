"""Registering webhook endpoints, and delivering the queued events (run by the workers).

Delivery claims due rows (``FOR UPDATE SKIP LOCKED`` plus a lease, like the mail outbox),
builds each body at send time, signs it with the endpoint's secret, and POSTs them with a
short timeout, several endpoints at once. 2xx marks a row delivered; anything else retries
with exponential backoff and jitter until ``WEBHOOK_MAX_ATTEMPTS``, then fails for good. A
receiver that is down only delays its own deliveries: signing never waits for any of this.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import random
import secrets
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select, update

from petitions.api.representations import osdi_signature, v1_action
from petitions.campaigns.models import Campaign
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.gatherings import queries as gatherings_queries
from petitions.letters import queries as letters_queries
from petitions.organisers.models import Organiser
from petitions.signing.models import Signature
from petitions.webhooks import addresses
from petitions.webhooks.models import (
    EVENTS,
    OUTREACH_EVENTS,
    RSVP_EVENTS,
    WebhookDelivery,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Petitions-Signature"
USER_AGENT = "petitions-webhooks/1"
_LEASE = timedelta(minutes=2)
_MAX_BACKOFF = 6 * 3600


class WebhookError(ValueError):
    """An endpoint can't be registered as given."""


# --- registration (workspace) ---------------------------------------------------------------


def check_url(url: str) -> str:
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise WebhookError("Enter a full web address starting with https://.") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("Enter a full web address starting with https://.")
    if parts.username or parts.password:
        raise WebhookError("Leave passwords out of the address.")
    if len(url) > 500:
        raise WebhookError("Web addresses can be up to 500 characters.")
    if not _private_allowed():
        if parts.scheme == "http":
            raise WebhookError("Webhook addresses must use https://.")
        reason = addresses.check_host(parts.hostname)
        if reason:
            raise WebhookError(
                f"Webhooks can only go to public internet addresses: {reason}. "
                "Use the receiver's public https:// address."
            )
    return url


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def register(
    campaign: Campaign,
    url: str,
    events: list[str],
    by: Organiser | None,
    *,
    include_sensitive: bool = False,
) -> WebhookEndpoint:
    chosen = [e for e in EVENTS if e in events]
    if not chosen:
        raise WebhookError("Choose at least one event.")
    endpoint = WebhookEndpoint(
        campaign_id=campaign.id,
        url=check_url(url),
        secret=new_secret(),
        events=chosen,
        active=True,
        include_sensitive=bool(include_sensitive),
        created_by_id=by.id if by else None,
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    endpoint.active = active
    db.session.flush()


def delete(endpoint: WebhookEndpoint) -> None:
    db.session.delete(endpoint)
    db.session.flush()


def endpoints_of(campaign: Campaign) -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.campaign_id == campaign.id)
            .order_by(WebhookEndpoint.id)
        )
    )


def recent_deliveries(campaign: Campaign, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookEndpoint.campaign_id == campaign.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


# --- signing a body ----------------------------------------------------------------------------


def sign_body(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (Python): compare in constant time."""
    return hmac.compare_digest(sign_body(secret, body), header or "")


def build_body(delivery: WebhookDelivery) -> bytes:
    """The event as JSON, built now from the signature's current state."""
    signature = db.session.get(Signature, delivery.signature_id)
    payload: dict[str, Any] = {
        "event": delivery.event,
        "idempotency_key": delivery.idempotency_key,
        "delivery": delivery.id,
        "occurred_at": delivery.created_at.isoformat().replace("+00:00", "Z"),
        "campaign": None,
        "action": None,
        "signature": None,
    }
    if signature is not None:
        action = signature.action
        payload["campaign"] = {"slug": action.campaign.slug, "title": action.campaign.title}
        action_doc = v1_action(action.campaign, action, 0)
        action_doc.pop("confirmed")
        action_doc.pop("percent")
        payload["action"] = action_doc
        payload["signature"] = osdi_signature(signature)
        if delivery.event in RSVP_EVENTS:
            payload["rsvp"] = _rsvp_doc(signature.id, delivery.endpoint.include_sensitive)
        if delivery.event in OUTREACH_EVENTS:
            payload["outreach"] = _outreach_doc(signature.id)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _outreach_doc(signature_id: int) -> dict[str, Any] | None:
    """The letter as it is now: whom it goes to and how far each copy got (not its words)."""
    letter = letters_queries.letter_for_signature(signature_id)
    if letter is None:
        return None
    deliveries = {d.target_id: d for d in letters_queries.deliveries_of(letter.id)}
    targets = []
    for target_id in letter.target_ids:
        target = letters_queries.target_of(letter.action_id, int(target_id))
        if target is None:
            continue
        delivery = deliveries.get(target.id)
        targets.append(
            {
                "id": target.id,
                "name": target.name,
                "title": target.title,
                "organisation": target.organisation,
                "constituency_code": target.constituency_code,
                "stance": target.stance or None,
                "delivery": delivery.status if delivery is not None else None,
            }
        )
    return {
        "id": letter.id,
        "type": "email",
        "constituency": (
            {"code": letter.constituency_code, "name": letter.constituency_name}
            if letter.constituency_code
            else None
        ),
        "thank_you": letter.thank_you,
        "targets": targets,
    }


def _rsvp_doc(signature_id: int, include_sensitive: bool) -> dict[str, Any] | None:
    """The RSVP as it is now: its status, answers (sensitive ones only if the endpoint opted
    in) and the event's times. Never the online link (that is for attendees only)."""
    found = gatherings_queries.rsvp_for_signature(signature_id)
    details = gatherings_queries.details_of(found.action_id) if found is not None else None
    if found is None or details is None:
        return None

    def when(value: Any) -> str | None:
        moment = as_utc(value)
        return moment.isoformat().replace("+00:00", "Z") if moment else None

    doc: dict[str, Any] = {
        "id": found.id,
        "status": found.status,
        "answers": dict(found.answers or {}),
        "placed_at": when(found.placed_at),
        "cancelled_at": when(found.cancelled_at),
        "checked_in_at": when(found.checked_in_at),
        "event": {
            "uid": details.uid,
            "starts_at": when(details.starts_at),
            "ends_at": when(details.ends_at),
            "timezone": details.timezone,
            "place": details.place_line,
            "cancelled": details.is_cancelled,
        },
    }
    if include_sensitive:
        doc["sensitive_answers"] = dict(found.sensitive_answers or {})
    return doc


# --- delivery (workers) --------------------------------------------------------------------


def _private_allowed() -> bool:
    allowed = current_app.config.get("WEBHOOK_ALLOW_PRIVATE")
    if allowed is None:
        return current_app.config.get("PETITIONS_ENV") != "production"
    return bool(allowed)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is reported as such, never followed


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = addresses.public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = addresses.public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)  # type: ignore[attr-defined]


# Outside production (private targets allowed): any address. In production: only addresses
# ``addresses.refusal`` allows, checked on the socket itself, and no proxy from the environment.
_opener = urllib.request.build_opener(_NoRedirects)
_public_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _PublicHTTPHandler, _PublicHTTPSHandler, _NoRedirects
)


@dataclass
class Attempt:
    delivery_id: int
    endpoint_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    attempts: int
    status: int | None = None
    error: str | None = None
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _post(attempt: Attempt, timeout: float, allow_private: bool) -> Attempt:
    """One POST. Runs in a pool thread: no app context, no database."""
    opener = _opener if allow_private else _public_opener
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked at registration
        attempt.url, data=attempt.body, headers=attempt.headers, method="POST"
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            attempt.status = response.status
            response.read(1024)
    except urllib.error.HTTPError as exc:
        attempt.status = exc.code
        attempt.error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, addresses.RefusedAddress):
            attempt.error = str(reason)[:200]
            return attempt
        attempt.error = f"{type(exc).__name__}: {reason}"[:200]
    return attempt


def claim_batch(limit: int | None = None) -> list[int]:
    """Lease up to ``limit`` due deliveries to this worker, and commit the lease."""
    config = current_app.config
    now = utcnow()
    ids = list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
                WebhookDelivery.available_at <= now,
                or_(
                    WebhookDelivery.claimed_until.is_(None),
                    WebhookDelivery.claimed_until < now,
                ),
                WebhookEndpoint.active.is_(True),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit or config["WEBHOOK_BATCH_SIZE"])
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
    )
    if ids:
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(claimed_until=now + _LEASE, attempts=WebhookDelivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _prepare(delivery: WebhookDelivery) -> Attempt:
    body = build_body(delivery)
    endpoint = delivery.endpoint
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Petitions-Event": delivery.event,
        "X-Petitions-Delivery": str(delivery.id),
        "Idempotency-Key": delivery.idempotency_key,
        SIGNATURE_HEADER: sign_body(endpoint.secret, body),
    }
    return Attempt(delivery.id, endpoint.id, endpoint.url, body, headers, delivery.attempts)


def _send_all(attempts: list[Attempt]) -> None:
    """Each endpoint's deliveries in order; several endpoints at once. A failure at one
    endpoint skips the rest of its batch (they retry later) instead of waiting on each."""
    timeout = float(current_app.config["WEBHOOK_TIMEOUT"])
    allow_private = _private_allowed()
    by_endpoint: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        by_endpoint.setdefault(attempt.endpoint_id, []).append(attempt)

    def run(queue: list[Attempt]) -> None:
        for index, attempt in enumerate(queue):
            _post(attempt, timeout, allow_private)
            if not attempt.ok and attempt.status is None:
                for later in queue[index + 1 :]:
                    later.skipped = True
                return

    workers = max(1, min(8, len(by_endpoint)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
        list(pool.map(run, by_endpoint.values()))


def _record(attempt: Attempt, report: DeliveryReport) -> None:
    config = current_app.config
    values: dict[str, Any] = {"claimed_until": None, "last_status": attempt.status}
    if attempt.skipped:
        # Not tried (its endpoint was down a moment ago): no attempt used, try again soon.
        values.pop("last_status")
        values["attempts"] = WebhookDelivery.attempts - 1
        values["available_at"] = utcnow() + timedelta(seconds=config["WEBHOOK_RETRY_BASE_SECONDS"])
        report.retried += 1
    elif attempt.ok:
        values.update(delivered_at=utcnow(), last_error=None)
        report.delivered += 1
    else:
        error = (attempt.error or f"HTTP {attempt.status}")[:200]
        values["last_error"] = error
        report.errors.append(error)
        if attempt.attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
            values["failed_at"] = utcnow()
            report.failed += 1
        else:
            delay = config["WEBHOOK_RETRY_BASE_SECONDS"] * (2 ** max(0, attempt.attempts - 1))
            delay = min(delay, _MAX_BACKOFF) * random.uniform(0.5, 1.5)
            values["available_at"] = utcnow() + timedelta(seconds=delay)
            report.retried += 1
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == attempt.delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def deliver_batch(ids: list[int]) -> DeliveryReport:
    report = DeliveryReport()
    rows = list(
        db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id)
        )
    )
    rows = [r for r in rows if r.delivered_at is None and r.failed_at is None]
    attempts = [_prepare(row) for row in rows]
    db.session.commit()  # no transaction held open while we wait on the network
    _send_all(attempts)
    for attempt in attempts:
        _record(attempt, report)
    db.session.commit()
    return report


def deliver_due(max_batches: int = 20) -> DeliveryReport:
    """Deliver what is due, batch after batch, until nothing is or the budget is spent."""
    total = DeliveryReport()
    for _ in range(max_batches):
        ids = claim_batch()
        if not ids:
            break
        report = deliver_batch(ids)
        total.delivered += report.delivered
        total.retried += report.retried
        total.failed += report.failed
        total.errors.extend(report.errors[:5])
    return total
