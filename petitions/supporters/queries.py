"""What a supporter's pages read: their history, their campaigns' news, what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from petitions.campaigns.models import Action, Campaign, CampaignUpdate, ConsentVersion
from petitions.core import events
from petitions.core.i18n import N_
from petitions.core.time import as_utc
from petitions.extensions import db
from petitions.mailer.models import SuppressedAddress
from petitions.signing.models import Signature, SignatureState
from petitions.supporters import consent
from petitions.supporters.models import CampaignOptOut, Supporter


@dataclass(frozen=True)
class HistoryEntry:
    signature: Signature
    action: Action
    campaign: Campaign

    @property
    def state(self) -> str:
        """The signature's state (``Signature.state``), in the supporter's words and language."""
        return _(_STATE_WORDS[self.signature.state])

    @property
    def can_withdraw(self) -> bool:
        return self.signature.state is not SignatureState.WITHDRAWN


_STATE_WORDS = {
    SignatureState.WITHDRAWN: N_("withdrawn"),
    SignatureState.INVALIDATED: N_("not counted"),
    SignatureState.SUSPECT: N_("not counted"),
    SignatureState.CONFIRMED: N_("confirmed"),
    SignatureState.PENDING: N_("waiting for confirmation"),
}


def history(email_normalised: str) -> list[HistoryEntry]:
    """Every signature and pledge of this address, newest first."""
    signatures = db.session.scalars(
        select(Signature)
        .where(Signature.email_normalised == email_normalised)
        .options(selectinload(Signature.action).selectinload(Action.campaign))
        .order_by(Signature.created_at.desc(), Signature.id.desc())
    )
    return [HistoryEntry(s, s.action, s.action.campaign) for s in signatures]


def latest_updates(campaign_ids: set[int], limit: int = 5) -> list[CampaignUpdate]:
    if not campaign_ids:
        return []
    return list(
        db.session.scalars(
            select(CampaignUpdate)
            .where(CampaignUpdate.campaign_id.in_(campaign_ids))
            .options(selectinload(CampaignUpdate.campaign))
            .order_by(CampaignUpdate.published_at.desc())
            .limit(limit)
        )
    )


def untaken_actions(campaigns: list[Campaign], taken: set[int]) -> list[Action]:
    """Open calls to action in these campaigns that this supporter has not taken yet."""
    return [a for c in campaigns for a in c.actions if a.id not in taken and a.is_open()]


def opted_out_campaigns(supporter: Supporter) -> set[int]:
    return set(
        db.session.scalars(
            select(CampaignOptOut.campaign_id).where(CampaignOptOut.supporter_id == supporter.id)
        )
    )


def _iso(value: Any) -> str | None:
    moment = as_utc(value)
    return moment.isoformat() if moment is not None else None


def export(email_normalised: str) -> dict[str, Any]:
    """Everything held about this address, for "Download my data"."""
    supporter = db.session.scalar(
        select(Supporter).where(Supporter.email_normalised == email_normalised)
    )
    signatures = []
    consent_ids = set()
    for entry in history(email_normalised):
        s = entry.signature
        consent_ids.add(s.consent_version_id)
        signatures.append(
            {
                "campaign": entry.campaign.title,
                "action": entry.action.title,
                "kind": entry.action.kind,
                "state": entry.state,
                "email": s.email,
                "name": s.name,
                "postcode": s.postcode,
                "country": s.country,
                "comment": s.comment,
                "pledge_option": s.pledge_option,
                "wants_updates": s.wants_updates,
                "consent_version": s.consent_version_id,
                "source": s.source,
                "referrer": s.referrer,
                "ip_address": s.ip_address,
                "signed_at": _iso(s.created_at),
                "confirmed_at": _iso(s.confirmed_at),
                "withdrawn_at": _iso(s.withdrawn_at),
            }
        )
    consents = {
        str(c.id): {"text": c.text, "sha256": c.text_hash}
        for c in db.session.scalars(
            select(ConsentVersion).where(ConsentVersion.id.in_(consent_ids - {None}))
        )
    }
    suppressed = db.session.get(SuppressedAddress, email_normalised)
    preferences: dict[str, Any] = {"all_email_stopped_at": None, "campaigns_stopped": []}
    if supporter is not None:
        preferences = {
            "all_email_stopped_at": _iso(supporter.unsubscribed_all_at),
            "campaigns_stopped": sorted(opted_out_campaigns(supporter)),
        }
    consent_history = [
        {
            "at": _iso(item.at),
            "change": item.kind,
            "what": item.summary,
            "source": item.source,
            "campaign": item.campaign,
            "action": item.action,
            "consent_version": item.consent_version_id,
        }
        for item in consent.history(email_normalised)
    ]
    report: dict[str, Any] = {
        "email": email_normalised,
        "signatures_and_pledges": signatures,
        "consent_wording": consents,
        "email_preferences": preferences,
        "consent_history": consent_history,
        "bounce_record": (
            {"reason": suppressed.reason, "since": _iso(suppressed.created_at)}
            if suppressed
            else None
        ),
    }
    # Other areas add what they hold (mailings: the campaign emails sent to this address).
    for _receiver, sections in events.person_data_requested.send(
        None, email_normalised=email_normalised
    ):
        report.update(sections or {})
    return report
