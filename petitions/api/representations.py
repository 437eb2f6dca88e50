"""JSON shapes: the public API's campaigns and actions, and OSDI petitions and signatures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from petitions.api import links
from petitions.campaigns.models import Action, Campaign
from petitions.core.text import render_markdown
from petitions.core.time import as_utc
from petitions.signing.models import Signature

ORIGIN_SYSTEM = "petitions"
OSDI_ROOT = "/api/osdi/v1"
V1_ROOT = "/api/v1"


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (as_utc(value) or value).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def action_state(action: Action) -> str:
    return "open" if action.is_open() else "closed"


# --- public API (/api/v1) -------------------------------------------------------------------


def v1_action_path(campaign: Campaign, action: Action) -> str:
    return f"{V1_ROOT}/campaigns/{quote(campaign.slug)}/actions/{quote(action.slug)}"


def v1_action(campaign: Campaign, action: Action, confirmed: int) -> dict[str, Any]:
    path = v1_action_path(campaign, action)
    percent = 100 if action.goal <= 0 else min(100, confirmed * 100 // action.goal)
    return {
        "id": action.id,
        "slug": action.slug,
        "campaign": campaign.slug,
        "kind": action.kind,
        "title": action.title,
        "text": action.text,
        "target": action.target,
        "goal": action.goal,
        "deadline": iso(action.deadline),
        "state": action_state(action),
        "confirmed": confirmed,
        "percent": percent,
        "links": {
            "self": links.absolute(path),
            "count": links.absolute(path + "/count"),
            "page": links.action_page(campaign.slug, action.slug),
            "embed": links.embed_page(campaign.slug, action.slug),
        },
    }


def v1_campaign(campaign: Campaign, counts: dict[int, int]) -> dict[str, Any]:
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "summary": campaign.summary,
        "body": campaign.body,
        "image_url": campaign.image_url,
        "state": campaign.status,
        "published_at": iso(campaign.published_at),
        "actions": [v1_action(campaign, a, counts.get(a.id, 0)) for a in campaign.actions],
        "links": {
            "self": links.absolute(f"{V1_ROOT}/campaigns/{quote(campaign.slug)}"),
            "page": links.campaign_page(campaign.slug),
        },
    }


# --- OSDI (/api/osdi/v1) --------------------------------------------------------------------


def href(path: str, **params: object) -> dict[str, str]:
    return {"href": links.absolute(OSDI_ROOT + path, **params)}


def osdi_petition(action: Action, total: int) -> dict[str, Any]:
    campaign = action.campaign
    resource: dict[str, Any] = {
        "identifiers": [f"{ORIGIN_SYSTEM}:{action.id}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(action.created_at),
        "modified_date": iso(action.closed_at or action.created_at),
        "name": action.slug,
        "title": action.title,
        "description": str(render_markdown(campaign.summary or "")),
        "petition_text": str(render_markdown(action.text or "")),
        "target": [{"name": action.target}] if action.target else [],
        "total_signatures": total,
        "browser_url": links.action_page(campaign.slug, action.slug),
        "featured_image_url": campaign.image_url,
        "petitions:kind": action.kind,
        "petitions:goal": action.goal,
        "petitions:end_date": iso(action.deadline),
        "petitions:state": action_state(action),
        "petitions:campaign": campaign.slug,
        "petitions:pledge_options": list(action.pledge_options or []),
        "_links": {
            "self": href(f"/petitions/{action.id}"),
            "osdi:signatures": href(f"/petitions/{action.id}/signatures"),
            "osdi:record_signature_helper": href(f"/petitions/{action.id}/signatures"),
        },
    }
    return resource


def signature_status(signature: Signature) -> str:
    if signature.withdrawn_at is not None:
        return "withdrawn"
    if signature.invalidated_at is not None:
        return "invalidated"
    return "confirmed" if signature.confirmed_at is not None else "pending"


def split_name(name: str) -> tuple[str, str]:
    """Our one name field, split as OSDI wants it (first word, then the rest)."""
    parts = (name or "").split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def osdi_person(signature: Signature) -> dict[str, Any]:
    given, family = split_name(signature.name)
    return {
        "given_name": given,
        "family_name": family,
        "email_addresses": [
            {
                "address": signature.email,
                "primary": True,
                "status": "subscribed" if signature.wants_updates else "unsubscribed",
            }
        ],
        "postal_addresses": [
            {"postal_code": signature.postcode, "country": signature.country, "primary": True}
        ],
    }


def osdi_signature(signature: Signature) -> dict[str, Any]:
    """A signature with its person: only ever shown to the campaign's own organisers."""
    modified = (
        signature.withdrawn_at
        or signature.invalidated_at
        or signature.confirmed_at
        or signature.created_at
    )
    return {
        "identifiers": [f"{ORIGIN_SYSTEM}:{signature.id}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(signature.created_at),
        "modified_date": iso(modified),
        "comments": signature.comment or "",
        "referrer_data": {"source": signature.source or "", "website": signature.referrer or ""},
        "petitions:status": signature_status(signature),
        "petitions:confirmed_date": iso(signature.confirmed_at),
        "petitions:pledge_option": signature.pledge_option,
        "_embedded": {"osdi:person": osdi_person(signature)},
        "_links": {
            "self": href(f"/signatures/{signature.id}"),
            "osdi:petition": href(f"/petitions/{signature.action_id}"),
        },
    }
