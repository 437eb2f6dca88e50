"""Data factories for tests (call inside an app context)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from petitions.campaigns.models import Action, ActionKind, Campaign, CampaignStatus
from petitions.campaigns.services import DEFAULT_CONSENT, consent_version
from petitions.core.emails import normalise_email
from petitions.extensions import db
from petitions.signing import services as signing

_seq = itertools.count(1)
TOKEN_IN_LINK = re.compile(r"/confirm/([A-Za-z0-9_-]+)")


def make_campaign(**values: Any) -> Campaign:
    n = next(_seq)
    values.setdefault("slug", f"campaign-{n}")
    values.setdefault("title", f"Campaign {n}")
    values.setdefault("summary", "A campaign for tests.")
    values.setdefault("status", CampaignStatus.LIVE.value)
    campaign = Campaign(**values)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def make_action(campaign: Campaign | None = None, **values: Any) -> Action:
    campaign = campaign or make_campaign()
    n = next(_seq)
    values.setdefault("slug", f"action-{n}")
    values.setdefault("title", f"Action {n}")
    values.setdefault("text", "We ask you to act.")
    values.setdefault("kind", ActionKind.PETITION.value)
    values.setdefault("goal", 100)
    values.setdefault("consent_version_id", consent_version(DEFAULT_CONSENT).id)
    action = Action(campaign_id=campaign.id, **values)
    db.session.add(action)
    db.session.flush()
    db.session.refresh(action)
    return action


def signature_input(email: str = "ann@example.org", **values: Any) -> signing.SignatureInput:
    values.setdefault("name", "Ann Example")
    values.setdefault("postcode", "SW1A 1AA")
    values.setdefault("postcode_area", "SW")
    values.setdefault("country", "GB")
    return signing.SignatureInput(email=email, email_normalised=normalise_email(email), **values)


def make_signature(action: Action, email: str = "ann@example.org", **values: Any) -> int:
    outcome = signing.sign(action, signature_input(email, **values))
    db.session.commit()
    return outcome.signature_id


def make_legacy_signature(action: Action, email: str, *, commit: bool = True) -> int:
    """A signature whose address skipped today's intake rules, as rows stored before them did
    (e.g. ``zoë@…`` before non-ASCII local parts were refused): written through the service."""
    data = signing.SignatureInput(
        name="Someone",
        email=email,
        email_normalised=email.lower(),
        postcode="SW1A 1AA",
        postcode_area="SW",
        country="GB",
    )
    outcome = signing.sign(action, data)
    if commit:
        db.session.commit()
    return outcome.signature_id
