"""The demo campaign (``flask --app petitions demo``): content, not rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from petitions.campaigns.models import (
    Action,
    ActionConsent,
    ActionKind,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
)
from petitions.campaigns.services import DEFAULT_CONSENT, DEFAULT_CONSENT_IN, consent_version
from petitions.core.time import utcnow
from petitions.extensions import db

DEMO_SLUG = "forced-labour-free-supply-chains"


def create_demo_campaign() -> Campaign:
    """An idempotent demo: one live campaign with a petition, a pledge and two updates, each
    with its Welsh version (the demo's /cy/ pages have none of the organiser's English)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == DEMO_SLUG))
    if campaign is not None:
        return campaign
    now = utcnow()
    consent = consent_version(DEFAULT_CONSENT)
    consent_cy = consent_version(DEFAULT_CONSENT_IN["cy"])
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
        translations={
            "cy": {
                "title": "Cadwyni cyflenwi heb lafur gorfodol",
                "summary": (
                    "Gall ceir, dillad a phaneli solar a werthir yma gynnwys cotwm, alwminiwm "
                    "neu bolysilicon a wnaed gan bobl sy'n cael eu cadw mewn gwersylloedd a'u "
                    "symud i ffatrïoedd yn erbyn eu hewyllys. Gall cwmnïau olrhain eu "
                    "cyflenwyr; rydym yn gofyn iddyn nhw brofi eu bod yn gwneud hynny."
                ),
                "body": (
                    "Mae ymchwilwyr annibynnol a thribiwnlys pobl wedi cofnodi cadw pobl ar "
                    "raddfa fawr, trosglwyddo gweithwyr dan orfodaeth a dinistrio diwylliant "
                    "cymuned. Mae cynnyrch a wneir fel hyn yn dal i gyrraedd ein siopau.\n\n"
                    "**Yr hyn rydym ei eisiau:** bod pob cwmni sy'n gwerthu yn y DU yn "
                    "cyhoeddi map llawn o'i gadwyn gyflenwi, yn ei harchwilio heb ddibynnu ar "
                    "arolygwyr a gymeradwywyd gan y wladwriaeth, ac yn rhoi'r gorau i "
                    "gyflenwyr sy'n defnyddio llafur gorfodol.\n\n"
                    "**Beth allwch chi ei wneud:** llofnodi'r ddeiseb i'r gwneuthurwyr ceir, "
                    "gwneud yr addewid, a dod â ffrind."
                ),
            }
        },
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
                consents=[ActionConsent(language="cy", consent_version_id=consent_cy.id)],
                thank_you="Thank you. Each signature makes this harder to ignore.",
                position=1,
                translations={
                    "cy": {
                        "title": "Gwneuthurwyr ceir: olrheiniwch eich cadwyni cyflenwi",
                        "target": "Prif weithredwyr y gwneuthurwyr ceir sy'n gwerthu yn y DU",
                        "text": (
                            "Galwn arnoch i gyhoeddi o ble y daw'r dur, yr alwminiwm, y batrïau "
                            "a'r tecstilau yn eich ceir, i gomisiynu archwiliadau nad ydynt yn "
                            "dibynnu ar arolygwyr a gymeradwywyd gan y wladwriaeth, ac i ddod "
                            "â chontractau i ben gydag unrhyw gyflenwr sy'n defnyddio llafur "
                            "gorfodol."
                        ),
                        "thank_you": (
                            "Diolch. Mae pob llofnod yn ei gwneud yn anoddach anwybyddu hyn."
                        ),
                    }
                },
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
                consents=[ActionConsent(language="cy", consent_version_id=consent_cy.id)],
                thank_you="Thank you for your pledge. Tell a friend what you promised.",
                position=2,
                translations={
                    "cy": {
                        "title": "Gwnewch yr addewid cwpwrdd dillad teg",
                        "text": (
                            "Byddaf yn defnyddio fy llais a fy waled fel nad oes neb yn cael ei "
                            "orfodi i wneud yr hyn rwy'n ei brynu."
                        ),
                        "thank_you": (
                            "Diolch am eich addewid. Dywedwch wrth ffrind beth rydych wedi'i addo."
                        ),
                        # One for each English option, in order: the English one is stored.
                        "pledge_options": [
                            "Byddaf yn gofyn i frandiau ble mae fy nillad yn cael eu gwneud cyn "
                            "i mi brynu",
                            "Byddaf yn ymuno â'r diwrnod gweithredu y tu allan i'r Wythnos Ffasiwn",
                            "Byddaf yn ysgrifennu at fy AS am waharddiad ar fewnforio nwyddau "
                            "llafur gorfodol",
                        ],
                    }
                },
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
                translations={
                    "cy": {
                        "title": "Diwrnod gweithredu: dewch â phlacard",
                        "body": (
                            "Byddwn yn ymgynnull y tu allan i leoliad yr Wythnos Ffasiwn ar "
                            "fore'r agoriad. Dewch â phlacard sy'n enwi brand rydych am gael "
                            "atebion ganddo. Bydd y stiwardiaid yn gwisgo festiau melyn."
                        ),
                    }
                },
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
                translations={
                    "cy": {
                        "title": "Blwyddyn ar ôl y tribiwnlys",
                        "body": (
                            "Ddeuddeng mis yn ôl, canfu tribiwnlys annibynnol fod troseddau yn "
                            "erbyn dynoliaeth yn cael eu cyflawni. Ers hynny mae tri manwerthwr "
                            "wedi cyhoeddi mapiau o'u cyflenwyr. Nid yw'r rhan fwyaf o "
                            "wneuthurwyr ceir wedi gwneud hynny; dyna pam rydym yn dechrau yma."
                        ),
                    }
                },
            ),
        ]
    )
    db.session.flush()
    return campaign
