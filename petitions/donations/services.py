"""Saving asks and recording views and clicks (flushes, never commits)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from petitions.audit.services import record
from petitions.campaigns.models import Action, Campaign
from petitions.core.time import utcnow
from petitions.donations.models import DonationAsk, DonationHit
from petitions.extensions import db

SOURCES = ("thanks", "confirmed", "ladder")
MAX_AMOUNTS = 6
AMOUNT_MAX = 100_000


def allowed_hosts() -> frozenset[str]:
    raw = current_app.config.get("DONATION_HOSTS") or ""
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def destination_allowed(url: str) -> bool:
    """An https:// address on an allowed host, with no credentials or odd port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return (
        parts.scheme == "https"
        and not parts.username
        and not parts.password
        and port in (None, 443)
        and host in allowed_hosts()
        and "\\" not in url
        and not any(ord(ch) < 33 or ord(ch) == 127 for ch in url)
    )


def save_ask(
    campaign: Campaign,
    *,
    action: Action | None,
    text: str,
    amounts: list[int],
    url: str,
    organiser_id: int,
    ip_address: str | None = None,
) -> DonationAsk:
    if not destination_allowed(url):
        raise ValueError("destination not allowed")
    ask = db.session.scalar(
        db.select(DonationAsk).where(
            DonationAsk.campaign_id == campaign.id,
            DonationAsk.action_id.is_(None)
            if action is None
            else DonationAsk.action_id == action.id,
        )
    )
    if ask is None:
        ask = DonationAsk(campaign_id=campaign.id, action_id=action.id if action else None)
        db.session.add(ask)
    ask.text, ask.amounts, ask.url, ask.updated_at = text.strip(), amounts, url, utcnow()
    db.session.flush()
    record(
        "donation.ask",
        organiser_id=organiser_id,
        campaign_id=campaign.id,
        action_id=action.id if action else None,
        subject_ids=[ask.id],
        detail={"host": urlsplit(url).hostname},
        ip_address=ip_address,
    )
    return ask


def delete_ask(ask: DonationAsk, *, organiser_id: int, ip_address: str | None = None) -> None:
    record(
        "donation.ask.delete",
        organiser_id=organiser_id,
        campaign_id=ask.campaign_id,
        action_id=ask.action_id,
        subject_ids=[ask.id],
        ip_address=ip_address,
    )
    db.session.delete(ask)
    db.session.flush()


def record_hit(
    ask: DonationAsk, kind: str, source: str, action_id: int | None, amount: int | None = None
) -> None:
    if kind not in ("view", "click") or source not in SOURCES:
        raise ValueError("unknown hit")
    db.session.add(
        DonationHit(ask_id=ask.id, action_id=action_id, kind=kind, source=source, amount=amount)
    )
