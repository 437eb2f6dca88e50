"""Build the API's schema objects (``schemas.py``) from the models: the public API's campaigns
and actions, and OSDI petitions and signatures. The schema class serialises them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal, cast
from urllib.parse import quote

from petitions.api import links, schemas
from petitions.campaigns.models import Action, ActionKind, Campaign
from petitions.core.text import render_markdown
from petitions.core.time import as_utc
from petitions.gatherings.queries import ListedEvent
from petitions.outcomes import queries as outcomes
from petitions.questions import queries as question_queries
from petitions.signing.models import Signature, SignatureState
from petitions.supporters import consent

ORIGIN_SYSTEM = "petitions"
OSDI_ROOT = "/api/osdi/v1"
V1_ROOT = "/api/v1"
CURIES = [
    schemas.Curie(
        name="osdi", href="https://opensupporter.github.io/osdi-docs/{rel}", templated=True
    )
]


def action_state(action: Action) -> schemas.State:
    return "open" if action.is_open() else "closed"


def _utc(value: datetime) -> datetime:
    return as_utc(value) or value


def percent_of(confirmed: int, goal: int) -> int:
    return 100 if goal <= 0 else min(100, confirmed * 100 // goal)


# --- public API (/api/v1) -------------------------------------------------------------------


def v1_action_path(campaign: Campaign, action: Action) -> str:
    return f"{V1_ROOT}/campaigns/{quote(campaign.slug)}/actions/{quote(action.slug)}"


def action_fields(campaign: Campaign, action: Action, confirmed: int) -> dict[str, Any]:
    path = v1_action_path(campaign, action)
    return {
        "id": action.id,
        "slug": action.slug,
        "campaign": campaign.slug,
        "kind": ActionKind(action.kind),
        "title": action.title,
        "text": action.text or "",
        "target": action.target,
        "goal": action.goal,
        "deadline": action.deadline,
        "state": action_state(action),
        "confirmed": confirmed,
        "percent": percent_of(confirmed, action.goal),
        "links": schemas.ActionLinks(
            self_=links.absolute(path),
            count=links.absolute(path + "/count"),
            page=links.action_page(campaign.slug, action.slug),
            embed=links.embed_page(campaign.slug, action.slug),
        ),
    }


def action_doc(campaign: Campaign, action: Action, confirmed: int) -> schemas.Action:
    return schemas.Action(**action_fields(campaign, action, confirmed))


def action_detail(
    campaign: Campaign, action: Action, confirmed: int, breakdowns: dict[str, Any]
) -> schemas.ActionDetail:
    return schemas.ActionDetail(
        **action_fields(campaign, action, confirmed),
        breakdowns=schemas.Breakdowns.model_validate(breakdowns),
        timeline=[
            schemas.TimelineEntry(
                kind=entry.kind,  # type: ignore[arg-type]
                title=entry.title,
                text=entry.text,
                link=entry.link or None,
                happened_on=entry.happened_on,
            )
            for entry in outcomes.timeline(action.id)
        ],
    )


def campaign_doc(
    campaign: Campaign, counts: dict[int, int], hidden: Collection[int] = ()
) -> schemas.Campaign:
    return schemas.Campaign(
        slug=campaign.slug,
        title=campaign.title,
        summary=campaign.summary or "",
        body=campaign.body or "",
        image_url=campaign.image_url,
        state=cast(Literal["live", "closed"], campaign.status),  # the schema checks it
        published_at=as_utc(campaign.published_at),
        actions=[
            action_doc(campaign, a, counts.get(a.id, 0))
            for a in campaign.actions
            if a.id not in hidden
        ],
        links=schemas.CampaignLinks(
            self_=links.absolute(f"{V1_ROOT}/campaigns/{quote(campaign.slug)}"),
            page=links.campaign_page(campaign.slug),
        ),
    )


def v1_action(campaign: Campaign, action: Action, confirmed: int) -> dict[str, Any]:
    """The public API's action as plain JSON data (what webhook payloads embed)."""
    return action_doc(campaign, action, confirmed).model_dump(mode="json")


# --- OSDI (/api/osdi/v1) --------------------------------------------------------------------


def href(path: str, **params: object) -> schemas.Link:
    return schemas.Link(href=links.absolute(OSDI_ROOT + path, **params))


def osdi_petition(action: Action, total: int) -> schemas.OsdiPetition:
    campaign = action.campaign
    created = _utc(action.created_at)
    return schemas.OsdiPetition(
        identifiers=[f"{ORIGIN_SYSTEM}:{action.id}"],
        origin_system=ORIGIN_SYSTEM,
        created_date=created,
        modified_date=as_utc(action.closed_at) or created,
        name=action.slug,
        title=action.title,
        description=str(render_markdown(campaign.summary or "")),
        petition_text=str(render_markdown(action.text or "")),
        target=[schemas.OsdiTarget(name=action.target)] if action.target else [],
        total_signatures=total,
        browser_url=links.action_page(campaign.slug, action.slug),
        featured_image_url=campaign.image_url,
        kind=ActionKind(action.kind),
        goal=action.goal,
        end_date=action.deadline,
        state=action_state(action),
        campaign=campaign.slug,
        pledge_options=list(action.pledge_options or []),
        links=schemas.OsdiPetitionLinks(
            self_=href(f"/petitions/{action.id}"),
            signatures=href(f"/petitions/{action.id}/signatures"),
            record_signature_helper=href(f"/petitions/{action.id}/signatures"),
        ),
    )


SignatureStatus = Literal["pending", "confirmed", "withdrawn", "invalidated"]


def signature_status(signature: Signature) -> SignatureStatus:
    """``Signature.state`` as OSDI shows it: one held for review shows as it was before."""
    state = signature.state
    if state is SignatureState.SUSPECT:
        return "confirmed" if signature.confirmed_at is not None else "pending"
    return state.value  # type: ignore[return-value]


def split_name(name: str) -> tuple[str, str]:
    """Our one name field, split as OSDI wants it (first word, then the rest)."""
    parts = (name or "").split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def osdi_person(signature: Signature, consenting: bool) -> schemas.OsdiPerson:
    """``consenting``: the signer's *current* consent (``supporters.consent``), not the tick."""
    given, family = split_name(signature.name)
    return schemas.OsdiPerson(
        given_name=given,
        family_name=family,
        email_addresses=[
            schemas.OsdiEmailAddress(
                address=signature.email,
                primary=True,
                status="subscribed" if consenting else "unsubscribed",
            )
        ],
        postal_addresses=[
            schemas.OsdiPostalAddress(
                postal_code=signature.postcode, country=signature.country, primary=True
            )
        ],
    )


def osdi_signature_doc(
    signature: Signature,
    consenting: bool | None = None,
    answers: dict[str, str] | None = None,
) -> schemas.OsdiSignature:
    """A signature with its person: only ever shown to the campaign's own organisers.

    ``consenting`` is the signer's current consent; looked up when not given (pages of many
    signatures look it up once for all, with ``consent.consenting_signatures``)."""
    if consenting is None:
        consenting = signature.id in consent.consenting_signatures([signature.id])
    if answers is None:
        answers = question_queries.shareable_answers([signature.id]).get(signature.id, {})
    modified = (
        signature.withdrawn_at
        or signature.invalidated_at
        or signature.confirmed_at
        or signature.created_at
    )
    return schemas.OsdiSignature(
        identifiers=[f"{ORIGIN_SYSTEM}:{signature.id}"],
        origin_system=ORIGIN_SYSTEM,
        created_date=_utc(signature.created_at),
        modified_date=_utc(modified),
        comments=signature.comment or "",
        referrer_data=schemas.OsdiReferrerData(
            source=signature.source or "", website=signature.referrer or ""
        ),
        status=signature_status(signature),
        confirmed_date=as_utc(signature.confirmed_at),
        pledge_option=signature.pledge_option,
        answers=answers,
        embedded=schemas.OsdiSignatureEmbedded(person=osdi_person(signature, consenting)),
        links=schemas.OsdiSignatureLinks(
            self_=href(f"/signatures/{signature.id}"),
            petition=href(f"/petitions/{signature.action_id}"),
        ),
    )


def osdi_signature(signature: Signature) -> dict[str, Any]:
    """The OSDI signature as plain JSON data (what webhook payloads embed)."""
    return osdi_signature_doc(signature).model_dump(mode="json")


def event_doc(listed: ListedEvent) -> schemas.Event:
    action, details, places = listed.action, listed.details, listed.places
    slug, campaign_slug = action.slug, action.campaign.slug
    return schemas.Event(
        id=action.id,
        slug=slug,
        campaign=campaign_slug,
        title=action.title,
        description=action.text or "",
        starts_at=details.starts_utc,
        ends_at=details.ends_utc,
        timezone=details.timezone,
        local_start=details.local_start.isoformat(),
        place=schemas.EventPlace(
            venue=details.venue,
            address=details.address,
            postcode=details.postcode,
            postcode_area=details.postcode_area,
            online=details.is_online,
        ),
        capacity=places.capacity,
        going=places.going,
        places_left=places.left,
        waitlist=details.waitlist,
        full=places.full,
        hosted=details.is_hosted,
        nearness=listed.nearness or None,
        links=schemas.EventLinks(
            page=links.absolute(f"/e/{quote(campaign_slug)}/{quote(slug)}"),
            ics=links.absolute(f"/e/{quote(campaign_slug)}/{quote(slug)}/event.ics"),
            embed=links.embed_page(campaign_slug, slug),
            campaign=links.absolute(f"{V1_ROOT}/campaigns/{quote(campaign_slug)}"),
        ),
    )
