"""Registering webhook endpoints, and what a delivery carries: its body and signature.

Delivering the queued events (leases, POSTs, retries) is ``webhooks/jobs.py``, run by the
workers, which owns its transactions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from petitions.api.representations import osdi_signature, v1_action
from petitions.campaigns.models import Campaign
from petitions.core.time import as_utc
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


class WebhookError(ValueError):
    """An endpoint can't be registered as given."""


# --- registration (workspace) ---------------------------------------------------------------


def check_url(url: str) -> str:
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise WebhookError(_l("Enter a full web address starting with https://.")) from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError(_l("Enter a full web address starting with https://."))
    if parts.username or parts.password:
        raise WebhookError(_l("Leave passwords out of the address."))
    if len(url) > 500:
        raise WebhookError(_l("Web addresses can be up to 500 characters."))
    if not _private_allowed():
        if parts.scheme == "http":
            raise WebhookError(_l("Webhook addresses must use https://."))
        reason = addresses.check_host(parts.hostname)
        if reason:
            # The reason is the address checker's own (English) words, kept for the logs too.
            raise WebhookError(
                _l(
                    "Webhooks can only go to public internet addresses: %(reason)s. "
                    "Use the receiver's public https:// address.",
                    reason=reason,
                )
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
        raise WebhookError(_l("Choose at least one event."))
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


def _private_allowed() -> bool:
    allowed = current_app.config.get("WEBHOOK_ALLOW_PRIVATE")
    if allowed is None:
        return current_app.config.get("PETITIONS_ENV") != "production"
    return bool(allowed)
