"""The demo campaign (``flask --app petitions demo``): content, not rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from petitions.campaigns.models import (
    Action,
    ActionKind,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
)
from petitions.campaigns.services import DEFAULT_CONSENT, consent_version
from petitions.core.time import utcnow
from petitions.extensions import db

DEMO_SLUG = "forced-labour-free-supply-chains"


def create_demo_campaign() -> Campaign:
    """An idempotent demo: one live campaign with a petition, a pledge and two updates."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == DEMO_SLUG))
    if campaign is not None:
        return campaign
    now = utcnow()
    consent = consent_version(DEFAULT_CONSENT)
    campaign = Campaign(
        slug=DEMO_SLUG,
        title="Forced-labour-free supply chains",
        summary=(
            "Cars, clothes and solar panels sold here can contain cotton, aluminium or "
            "polysilicon made by people held in camps and moved to factories against their "
            "will. Companies can trace their suppliers; we are asking them to prove they do."
        ),
        body=(
            "Independent researchers and a people's tribunal have documented mass detention, "
            "coerced transfers of workers and the destruction of a community's culture. "
            "Products made this way still reach our shops.\n\n"
            "**What we want:** every company selling in the UK publishes a full map of its "
            "supply chain, audits it without relying on state-approved inspectors, and drops "
            "suppliers that use forced labour.\n\n"
            "**What you can do:** sign the petition to the carmakers, take the pledge, and "
            "bring a friend."
        ),
        status=CampaignStatus.LIVE.value,
        published_at=now - timedelta(days=30),
    )
    db.session.add(campaign)
    db.session.flush()
    db.session.add_all(
        [
            Action(
                campaign_id=campaign.id,
                kind=ActionKind.PETITION.value,
                slug="carmakers-trace-your-supply-chains",
                title="Carmakers: trace your supply chains",
                target="The chief executives of carmakers selling in the UK",
                text=(
                    "We call on you to publish where the steel, aluminium, batteries and "
                    "textiles in your cars come from, to commission audits that do not depend "
                    "on state-approved inspectors, and to end contracts with any supplier that "
                    "uses forced labour."
                ),
                goal=10000,
                consent_version_id=consent.id,
                thank_you="Thank you. Each signature makes this harder to ignore.",
                position=1,
            ),
            Action(
                campaign_id=campaign.id,
                kind=ActionKind.PLEDGE.value,
                slug="fair-wardrobe-pledge",
                title="Take the fair wardrobe pledge",
                text=(
                    "I will use my voice and my wallet so that nobody is forced to make what I buy."
                ),
                goal=2500,
                pledge_options=[
                    "I will ask brands where my clothes are made before I buy",
                    "I will join the day of action outside Fashion Week",
                    "I will write to my MP about a forced-labour import ban",
                ],
                consent_version_id=consent.id,
                thank_you="Thank you for your pledge. Tell a friend what you promised.",
                position=2,
            ),
            CampaignUpdate(
                campaign_id=campaign.id,
                title="Day of action: bring a placard",
                body=(
                    "We will gather outside the Fashion Week venue on the opening morning. "
                    "Bring a placard naming a brand you want answers from. Stewards will be "
                    "in yellow bibs."
                ),
                published_at=now - timedelta(days=2),
            ),
            CampaignUpdate(
                campaign_id=campaign.id,
                title="A year after the tribunal",
                body=(
                    "Twelve months ago an independent tribunal found that crimes against "
                    "humanity were being committed. Since then three retailers have published "
                    "supplier maps. Most carmakers have not; that is why we are starting here."
                ),
                published_at=now - timedelta(days=20),
            ),
        ]
    )
    db.session.flush()
    return campaign
