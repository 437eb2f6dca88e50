"""Demo events for ``flask --app petitions demo``: an upcoming day of action with a few places
(so a newcomer can fill the last one and see the waitlist) and a past online talk with three
(fictitious, ``example.org``) attendees, two checked in, and the follow-up with the recording
that went to them (recorded as sent a day after the talk: the demo never mails anyone)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from petitions.campaigns.models import Action, Campaign
from petitions.campaigns.services import DEFAULT_CONSENT_IN, set_consents
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.gatherings import services
from petitions.gatherings.models import (
    DeliveryStatus,
    EventDelivery,
    EventDetails,
    EventHosting,
    Rsvp,
    RsvpStatus,
)
from petitions.signing.models import Signature

DAY_OF_ACTION_SLUG = "day-of-action-at-fashion-week"
TALK_SLUG = "online-talk-what-the-supply-chain-maps-show"


def _exists(campaign: Campaign, slug: str) -> bool:
    return (
        db.session.scalar(
            select(Action.id).where(Action.campaign_id == campaign.id, Action.slug == slug)
        )
        is not None
    )


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    day = (utcnow() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, minute)


DEMO_ATTENDEES = [
    ("Priya Demo", "priya.demo@example.org", True),
    ("Tom Demo", "tom.demo@example.org", True),
    ("Ade Demo", "ade.demo@example.org", False),
]
RECORDING_SUBJECT = "The recording of last week's talk"


def _past_attendees_and_follow_up(action: Action) -> None:
    """Rows as the talk left them: RSVPs confirmed before it, check-ins, and the follow-up to
    those who came, with its deliveries already sent. Written directly (no outbox), so the
    demo sends nothing; the count worker folds the signatures as usual (``needs_count``)."""
    details = db.session.get(EventDetails, action.id)
    assert details is not None
    before = details.starts_utc - timedelta(days=3)
    for name, email, came in DEMO_ATTENDEES:
        signature = Signature(
            action_id=action.id,
            email=email,
            email_normalised=email,
            name=name,
            postcode="",
            postcode_area="",
            country="GB",
            consent_version_id=action.consent_version_id,
            source="demo",
            created_at=before,
            confirmed_at=before,
            confirm_emails_sent=1,
            needs_count=True,
        )
        db.session.add(signature)
        db.session.flush()
        db.session.add(
            Rsvp(
                signature_id=signature.id,
                action_id=action.id,
                status=RsvpStatus.GOING.value,
                answers={},
                sensitive_answers={},
                created_at=before,
                placed_at=before,
                checked_in_at=details.starts_utc if came else None,
            )
        )
    db.session.flush()
    followup, _count = services.create_followup(
        action,
        "attended",
        RECORDING_SUBJECT,
        "Thank you for coming. The recording is here: https://video.example.org/supply-chain-maps",
    )
    sent = details.ends_utc + timedelta(days=1)
    followup.created_at = sent
    db.session.execute(
        update(EventDelivery)
        .where(EventDelivery.message == f"followup:{followup.id}")
        .values(status=DeliveryStatus.SENT.value, attempts=1, handed_at=sent, sent_at=sent)
        .execution_options(synchronize_session=False)
    )


def create_demo_events(campaign: Campaign) -> list[Action]:
    """Idempotent: adds whichever demo event is missing."""
    made: list[Action] = []
    if not _exists(campaign, DAY_OF_ACTION_SLUG):
        action = services.create_event(
            campaign,
            services.EventInput(
                title="Day of action at Fashion Week",
                description=(
                    "Join us outside the Fashion Week venue on the opening morning. Bring a "
                    "placard naming a brand you want answers from; we will have spares.\n\n"
                    "Stewards in yellow bibs will meet you at the corner by the bus stop. The "
                    "pavement is step-free; tell us below if you need anything else to take "
                    "part."
                ),
                starts_local=_at(10, 9, 30),
                ends_local=_at(10, 11, 30),
                timezone="Europe/London",
                venue="Outside the Fashion Week venue",
                address="The Strand, London",
                postcode="WC2R 1LA",
                capacity=3,
                waitlist=True,
                questions=services.parse_questions(
                    "Are you bringing a guest?\n!Access needs (only the organisers see this)"
                ),
            ),
        )
        action.translations = {
            "cy": {
                "title": "Diwrnod gweithredu yn yr Wythnos Ffasiwn",
                "text": (
                    "Ymunwch â ni y tu allan i leoliad yr Wythnos Ffasiwn ar fore'r agoriad. "
                    "Dewch â phlacard sy'n enwi brand rydych am gael atebion ganddo; bydd "
                    "gennym rai sbâr.\n\n"
                    "Bydd stiwardiaid mewn festiau melyn yn eich cyfarfod ar y gornel wrth yr "
                    "arhosfan bysiau. Does dim grisiau ar y palmant; dywedwch wrthym isod os "
                    "oes angen unrhyw beth arall arnoch i gymryd rhan."
                ),
                "venue": "Y tu allan i leoliad yr Wythnos Ffasiwn",
                "address": "The Strand, Llundain",
            }
        }
        set_consents(action, {"cy": DEFAULT_CONSENT_IN["cy"]})
        made.append(action)
    if not _exists(campaign, TALK_SLUG):
        # A past event: created as if a month ago, when it was still in the future.
        action = services.create_event(
            campaign,
            services.EventInput(
                title="Online talk: what the supply-chain maps show",
                description=(
                    "Two researchers walk through the supplier maps published so far: what "
                    "they reveal, what they leave out, and what to ask a brand next.\n\n"
                    "**The recording is now online:** https://video.example.org/supply-chain-maps"
                ),
                starts_local=_at(-7, 18, 0),
                ends_local=_at(-7, 19, 0),
                timezone="Europe/London",
                online_url="https://meet.example.org/supply-chain-maps",
                capacity=None,
            ),
            now=utcnow() - timedelta(days=30),
        )
        action.translations = {
            "cy": {
                "title": "Sgwrs ar-lein: yr hyn y mae'r mapiau cadwyn gyflenwi yn ei ddangos",
                "text": (
                    "Mae dau ymchwilydd yn mynd drwy'r mapiau cyflenwyr a gyhoeddwyd hyd yma: yr "
                    "hyn y maen nhw'n ei ddatgelu, yr hyn y maen nhw'n ei adael allan, a beth "
                    "i'w ofyn i frand nesaf.\n\n"
                    "**Mae'r recordiad ar-lein bellach:** "
                    "https://video.example.org/supply-chain-maps"
                ),
            }
        }
        set_consents(action, {"cy": DEFAULT_CONSENT_IN["cy"]})
        made.append(action)
        _past_attendees_and_follow_up(action)
    if db.session.get(EventHosting, campaign.id) is None:
        services.set_hosting(
            campaign,
            True,
            "Running a stall, a film night or a letter-writing evening near you? Tell us and "
            "we'll list it once an organiser has had a look.",
            {
                "cy": {
                    "intro": (
                        "Yn cynnal stondin, noson ffilm neu noson ysgrifennu llythyrau yn agos "
                        "atoch chi? Dywedwch wrthym a byddwn yn ei restru unwaith y bydd "
                        "trefnydd wedi cael golwg arno."
                    )
                }
            },
        )
    db.session.flush()
    return made
