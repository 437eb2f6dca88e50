"""Demo letters for ``flask --app petitions demo``: a letter to a company (two fixed
recipients, one of whom has responded) and an "ask your MP" letter with a thank-you variant
(the demo MP for GU11 1AA already supports the amendment). Each has its Welsh title, intro and
consent wording; the letter itself, which goes to the target, is in English."""

from __future__ import annotations

from sqlalchemy import select

from petitions.campaigns.models import Action, Campaign
from petitions.campaigns.services import DEFAULT_CONSENT_IN, set_consents
from petitions.extensions import db
from petitions.geo.demo import load_demo_geo
from petitions.letters import services
from petitions.letters.models import Stance

COMPANY_SLUG = "write-to-threadline"
MP_SLUG = "ask-your-mp-to-back-the-amendment"


def _exists(campaign: Campaign, slug: str) -> bool:
    return (
        db.session.scalar(
            select(Action.id).where(Action.campaign_id == campaign.id, Action.slug == slug)
        )
        is not None
    )


def create_demo_letters(campaign: Campaign) -> list[Action]:
    """Idempotent: adds the demo geo data and whichever demo letter is missing."""
    load_demo_geo()
    made: list[Action] = []
    if not _exists(campaign, COMPANY_SLUG):
        action = services.create_letter(
            campaign,
            services.LetterInput(
                title="Write to Threadline",
                intro=(
                    "Threadline, a (fictitious) clothing brand, still will not say where its "
                    "cotton comes from. Write to its chief executive and its head of "
                    "sustainability: ask them to publish their full supplier map."
                ),
                subject="Publish your supplier map",
                template=(
                    "Dear {target_name},\n\n"
                    "As a customer, I want to know that the clothes I buy from Threadline "
                    "were not made with forced labour. Please publish your full supplier map, "
                    "down to the cotton fields, and commit to independent audits.\n\n"
                    "Yours sincerely,\n{supporter_name}"
                ),
                personal_prompt="Tell them why this matters to you",
                rate_per_minute=6,
                goal=500,
            ),
        )
        action.slug = COMPANY_SLUG
        action.translations = {
            "cy": {
                "title": "Ysgrifennwch at Threadline",
                "text": (
                    "Nid yw Threadline, brand dillad (dychmygol), yn fodlon dweud o hyd o ble y "
                    "daw ei gotwm. Ysgrifennwch at ei brif weithredwr a'i bennaeth "
                    "cynaliadwyedd: gofynnwch iddyn nhw gyhoeddi map llawn o'u cyflenwyr."
                ),
                "subject": "Cyhoeddwch eich map cyflenwyr",
                "template": (
                    "Annwyl {target_name},\n\n"
                    "Fel cwsmer, rwyf am wybod na chafodd y dillad rwy'n eu prynu gan "
                    "Threadline eu gwneud â llafur gorfodol. Cyhoeddwch eich map cyflenwyr "
                    "llawn, i lawr at y caeau cotwm, os gwelwch yn dda, ac ymrwymwch i "
                    "archwiliadau annibynnol.\n\n"
                    "Yn gywir,\n{supporter_name}"
                ),
                "personal_prompt": "Dywedwch wrthyn nhw pam mae hyn yn bwysig i chi",
            }
        }
        set_consents(action, {"cy": DEFAULT_CONSENT_IN["cy"]})
        services.add_target(
            action,
            services.TargetInput(
                name="Jordan Vale",
                title="Chief Executive",
                organisation="Threadline Ltd",
                email="ceo@threadline.example.org",
                translations={"cy": {"title": "Prif Weithredwr"}},
            ),
        )
        head = services.add_target(
            action,
            services.TargetInput(
                name="Morgan Ellis",
                title="Head of Sustainability",
                organisation="Threadline Ltd",
                email="sustainability@threadline.example.org",
                translations={
                    "cy": {
                        "title": "Pennaeth Cynaliadwyedd",
                        "stance_note": "Atebodd fod rhestr o gyflenwyr 'yn cael ei hadolygu'",
                        "response": (
                            "Rydym yn adolygu'r hyn a ddatgelwn am ein cyflenwyr a byddwn yn "
                            "rhoi'r newyddion diweddaraf i gwsmeriaid."
                        ),
                    }
                },
            ),
        )
        services.set_stance(
            head,
            Stance.RESPONDED.value,
            "Replied that a supplier list is 'under review'",
            response="We are reviewing our supplier disclosures and will update customers.",
        )
        made.append(action)
    if not _exists(campaign, MP_SLUG):
        action = services.create_letter(
            campaign,
            services.LetterInput(
                title="Ask your MP to back the amendment",
                intro=(
                    "On Thursday MPs vote on an amendment that would make companies prove "
                    "their supply chains are free of forced labour. Enter your postcode to "
                    "write to your MP. (Demo postcodes: GU11 1AA, WS9 8AA, WA15 0ZZ.)"
                ),
                subject="Please back the supply-chain amendment on Thursday",
                template=(
                    "Dear {target_name},\n\n"
                    "I live in {constituency} ({postcode}). On Thursday, please vote for the "
                    "amendment requiring companies to prove their supply chains are free of "
                    "forced labour.\n\nYours sincerely,\n{supporter_name}"
                ),
                thank_you_template=(
                    "Dear {target_name},\n\n"
                    "Thank you for supporting the supply-chain amendment. As your constituent "
                    "in {constituency}, I'm glad you will vote for it on Thursday.\n\n"
                    "Yours sincerely,\n{supporter_name}"
                ),
                thank_you_subject="Thank you for backing the supply-chain amendment",
                to_representative=True,
                rate_per_minute=4,
                goal=1000,
            ),
        )
        action.slug = MP_SLUG
        action.translations = {
            "cy": {
                "title": "Gofynnwch i'ch AS gefnogi'r gwelliant",
                "text": (
                    "Ddydd Iau bydd ASau yn pleidleisio ar welliant a fyddai'n gwneud i gwmnïau "
                    "brofi bod eu cadwyni cyflenwi yn rhydd o lafur gorfodol. Rhowch eich cod "
                    "post i ysgrifennu at eich AS. (Codau post y demo: GU11 1AA, WS9 8AA, "
                    "WA15 0ZZ.)"
                ),
                "subject": "Cefnogwch y gwelliant cadwyn gyflenwi ddydd Iau",
                "template": (
                    "Annwyl {target_name},\n\n"
                    "Rwy'n byw yn {constituency} ({postcode}). Ddydd Iau, pleidleisiwch dros y "
                    "gwelliant sy'n gofyn i gwmnïau brofi bod eu cadwyni cyflenwi yn rhydd o "
                    "lafur gorfodol, os gwelwch yn dda.\n\nYn gywir,\n{supporter_name}"
                ),
                "thank_you_template": (
                    "Annwyl {target_name},\n\n"
                    "Diolch am gefnogi'r gwelliant cadwyn gyflenwi. Fel un o'ch etholwyr yn "
                    "{constituency}, rwy'n falch y byddwch yn pleidleisio drosto ddydd Iau.\n\n"
                    "Yn gywir,\n{supporter_name}"
                ),
                "thank_you_subject": "Diolch am gefnogi'r gwelliant cadwyn gyflenwi",
            }
        }
        set_consents(action, {"cy": DEFAULT_CONSENT_IN["cy"]})
        supporter = services.representative_target(action.id, "E14001063")
        if supporter is not None:
            services.set_stance(supporter, Stance.SUPPORTS.value, "Signed the amendment")
            supporter.translations = {"cy": {"stance_note": "Wedi llofnodi'r gwelliant"}}
        opposer = services.representative_target(action.id, "E14001064")
        if opposer is not None:
            services.set_stance(opposer, Stance.OPPOSES.value, "Spoke against it at second reading")
            opposer.translations = {
                "cy": {"stance_note": "Siaradodd yn ei erbyn yn yr ail ddarlleniad"}
            }
        made.append(action)
    db.session.flush()
    return made
