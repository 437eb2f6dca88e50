"""Delivering the queued webhook events (run by the workers). This module owns its transactions.

Delivery claims due rows (``FOR UPDATE SKIP LOCKED`` plus a lease, like the mail outbox) and
commits the lease, builds each body at send time (``services.build_body``), signs it with the
endpoint's secret, and POSTs them with a short timeout, several endpoints at once, with no
transaction held open while it waits on the network. 2xx marks a row delivered; anything else
retries with exponential backoff and jitter until ``WEBHOOK_MAX_ATTEMPTS``, then fails for good.
A receiver that is down only delays its own deliveries: signing never waits for any of this.
"""

from __future__ import annotations

import http.client
import random
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from petitions.core import unit_of_work
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.webhooks import addresses
from petitions.webhooks.models import (
    WebhookDelivery,
    WebhookEndpoint,
)
from petitions.webhooks.services import (
    SIGNATURE_HEADER,
    USER_AGENT,
    _private_allowed,
    build_body,
    sign_body,
)

_LEASE = timedelta(minutes=2)
_MAX_BACKOFF = 6 * 3600


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
    unit_of_work.commit()
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
    unit_of_work.commit()  # no transaction held open while we wait on the network
    _send_all(attempts)
    for attempt in attempts:
        _record(attempt, report)
    unit_of_work.commit()
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
